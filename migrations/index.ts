import { CreateSimilaritySchema1764100000000 } from './1764100000000-create-similarity-schema';
import { CreateVectorIndex1764100000001 } from './1764100000001-create-vector-index';
import { CreateNeighborPools1764100000002 } from './1764100000002-create-neighbor-pools';
import { CreateRebuildCheckpoint1764100000003 } from './1764100000003-create-rebuild-checkpoint';
import { CreateGraphReports1764100000004 } from './1764100000004-create-graph-reports';
import { PoolMembersTable1764100000005 } from './1764100000005-pool-members-table';
import { PoolEntriesAsRows1764100000006 } from './1764100000006-pool-entries-as-rows';
import { GraphChangeLog1764100000007 } from './1764100000007-graph-change-log';
import { EmbeddingsVacuumAtAFifth1764100000008 } from './1764100000008-embeddings-vacuum-at-a-fifth';
import { PartitionOwners1764100000009 } from './1764100000009-partition-owners';
import { PoolOwnerHash1764100000010 } from './1764100000010-pool-owner-hash';
import { OwnerPoolsRevision1764100000011 } from './1764100000011-owner-pools-revision';
import { DropPoolMemberIndex1764100000012 } from './1764100000012-drop-pool-member-index';
import { PoolsAsOneRow1764100000013 } from './1764100000013-pools-as-one-row';

/** All migrations in order; listed explicitly so ts-node, jest and dist all find them. */
export const migrations = [CreateSimilaritySchema1764100000000, CreateVectorIndex1764100000001, CreateNeighborPools1764100000002, CreateRebuildCheckpoint1764100000003, CreateGraphReports1764100000004, PoolMembersTable1764100000005, PoolEntriesAsRows1764100000006, GraphChangeLog1764100000007, EmbeddingsVacuumAtAFifth1764100000008, PartitionOwners1764100000009, PoolOwnerHash1764100000010, OwnerPoolsRevision1764100000011, DropPoolMemberIndex1764100000012, PoolsAsOneRow1764100000013];
