/** What controllers need of a response; satisfied by both Fastify's reply and Express's response. */
export interface HttpReply {
  header(name: string, value: string): unknown;
  status(code: number): unknown;
}
