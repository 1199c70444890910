import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A student's embedding, written upstream; this service only reads it. */
@Entity({ name: 'student_embeddings' })
export class StudentEmbedding {
  @PrimaryColumn({ name: 'student_id', type: 'text' })
  studentId!: string;

  /** pgvector text form, e.g. "[0.1,0.2]"; parse with pgvector's fromSql. */
  @Column({ name: 'vec', type: 'text', select: false })
  vector!: string;

  @Column({ type: 'bigint' })
  version!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
