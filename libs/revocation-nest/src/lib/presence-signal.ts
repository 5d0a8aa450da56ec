/**
 * Injection token of the hook the synchroniser and the health indicator call when the status
 * changed (the log position moved, draining began); {@link RevocationPresence} fills it in.
 */
export const PRESENCE_SIGNAL = Symbol('PRESENCE_SIGNAL');

/** What {@link PRESENCE_SIGNAL} provides: a no-op until the publisher exists. */
export interface PresenceSignal {
  notify(): void;
}
