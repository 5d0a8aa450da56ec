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
@Public() // an event carries no bearer token; the global guard must let it through
@Controller()
export class RevocationEventsController {
  constructor(private readonly sync: RevocationSynchronizer) {}

  /** One message of the revocation channel, decoded by the event codec (not validated yet). */
  @EventPattern(REVOCATION_EVENT)
  onRevocation(event: unknown): void {
    this.sync.onMessage(event);
  }
}
