/** What controllers need of a response; satisfied by both Fastify's reply and Express's response. */
export interface HttpReply {
  /** A header; an array sends it once per value (`Set-Cookie`). */
  header(name: string, value: string | readonly string[]): unknown;
  status(code: number): unknown;
}
