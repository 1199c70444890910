import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { KafkaLogger } from '@nestjs/microservices/helpers/kafka-logger';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { boundedKeyPartitioner } from './bounded-key-partitioner';
import { kafkaClientOptions } from './kafka-client-options';

/**
 * The process's one kafkajs client, and the one producer and one admin made from it; the
 * consumer (BatchingKafkaServer) is made from the same client. kafkajs gives each consumer,
 * producer and admin a connection of its own to each broker it talks to, so a worker holds
 * three sets: the consumer's, the producer's (dead letters), and the admin's, which reads the
 * group's committed offsets and the topic's end offsets for the lag of partitions this replica
 * does not own, and checks for missing topics at start-up.
 */
@Injectable()
export class KafkaConnection implements OnModuleInit, OnApplicationShutdown {
  readonly client: Kafka;
  readonly producer: Producer;
  private readonly adminClient: Admin;
  private adminConnected: Promise<Admin> | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = new Kafka({ ...kafkaClientOptions(config.kafka), logLevel: logLevel.WARN, logCreator: () => KafkaLogger(new Logger('kafkajs')) });
    // Dead letters go to a topic the broker may create on first use (see KAFKA_CREATE_TOPICS).
    this.producer = this.client.producer({ allowAutoTopicCreation: true, createPartitioner: boundedKeyPartitioner });
    this.adminClient = this.client.admin();
  }

  /** Connected before the app serves anything: a dead letter must never wait for a connection. */
  async onModuleInit(): Promise<void> {
    await this.producer.connect();
  }

  /** The admin, connected on first use; a failed connection is tried again on the next call. */
  admin(): Promise<Admin> {
    this.adminConnected ??= this.adminClient.connect().then(
      () => this.adminClient,
      (error) => {
        this.adminConnected = null;
        throw error;
      },
    );
    return this.adminConnected;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    if (this.adminConnected) await this.adminClient.disconnect().catch(() => undefined);
  }
}
