/** RFC 8417 §7.2: the media type of a Security Event Token, the body of an RFC 8935 push. */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';

/** The route that takes it (`SsfEventsController`), the only one whose body it may be. */
export const SSF_EVENTS_PATH = '/ssf/events';

/** Whether a `Content-Type` value is {@link SET_MEDIA_TYPE}, with or without parameters. */
export function isSetMediaType(value: string | undefined): boolean {
  return value !== undefined && /^application\/secevent\+jwt\s*(?:;|$)/i.test(value.trim());
}
