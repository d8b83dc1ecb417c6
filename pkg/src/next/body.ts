/** Reading a request body without ever holding more than a cap of it in memory. */

/**
 * The body as text, or `null` when it is larger than `max` bytes: refused on a declared
 * `Content-Length` before any of it is read, and otherwise read with a running count that
 * stops (and cancels the stream) as soon as it passes `max`, so a body sent without a length,
 * or with a false one, costs at most `max` bytes and one chunk.
 */
export async function readBody(request: Request, max: number): Promise<string | null> {
  const declared = request.headers.get("content-length");
  // A length that is not a number is left to the running count below.
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > max) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
