import { Get } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { StoreUnavailableError } from '@rescind/revocation-core';
import { type ReplicaStatus } from '@rescind/revocation-redis';
import { RevocationPresence } from '@rescind/revocation-nest';
import { ERROR, REPLICA_LIST } from '../openapi/openapi-schemas';
import { AdminRoutes } from './admin-routes.decorator';

/** What `GET /admin/replicas` answers. */
export interface ReplicaListBody {
  items: ReplicaStatus[];
  /** Replicas in `items` that report themselves ready. */
  ready_count: number;
}

/** `/admin/replicas`: the fleet as its replicas publish it (docs/design.md, "Fleet presence"). */
@AdminRoutes('admin/replicas')
export class AdminReplicasController {
  constructor(private readonly presence: RevocationPresence) {}

  @Get()
  @ApiResponse({ status: 200, schema: REPLICA_LIST })
  @ApiResponse({ status: 503, description: 'the store is unreachable', schema: ERROR })
  async list(): Promise<ReplicaListBody> {
    let items: ReplicaStatus[];
    try {
      items = await this.presence.fleet();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    return { items, ready_count: items.filter((status) => status.ready).length };
  }
}
