import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { RevocationSynchronizer } from '@rescind/revocation-core';
import { Public } from './public.decorator';

/** The pattern under which {@link RevocationEventsServer} dispatches every revocation event. */
export const REVOCATION_EVENT = 'rescind.revocation';

/**
 * Hands every revocation event the transport receives to the synchroniser, which validates it
 * (counting what is malformed), applies it and notices gaps.
 */
// An event carries no bearer token: should the application's guard ever apply, let it through.
@Public()
@Controller()
export class RevocationEventsController {
  constructor(private readonly sync: RevocationSynchronizer) {}

  /**
   * One message of the revocation channel, decoded by the event codec (not validated yet). With
   * no parameter decorator NestJS hands the payload over as it is, without a pipe on the way.
   */
  @EventPattern(REVOCATION_EVENT)
  onRevocation(event: unknown): void {
    this.sync.onMessage(event);
  }
}
