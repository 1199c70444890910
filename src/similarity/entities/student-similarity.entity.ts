import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One edge of the public graph: `neighbor` is among the top-K most similar students of `student`. */
@Entity({ name: 'student_similarity' })
export class StudentSimilarity {
  @PrimaryColumn({ name: 'a', type: 'text' })
  studentId!: string;

  @PrimaryColumn({ name: 'b', type: 'text' })
  neighborId!: string;

  /** Cosine similarity in [-1, 1]. */
  @Column({ name: 'sim', type: 'real' })
  similarity!: number;

  @Column({ name: 'last_event', type: 'uuid' })
  lastEvent!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
