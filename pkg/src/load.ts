/** Instantiating a wasm-bindgen module from embedded bytes, once, in any runtime. */

interface Glue {
  initSync(options: { module: BufferSource | WebAssembly.Module }): unknown;
  default(options: { module_or_path: BufferSource | WebAssembly.Module }): Promise<unknown>;
}

export interface Loader {
  /** Instantiates synchronously from the embedded bytes unless already done. */
  ready(): void;
  /** Instantiates from the given module (or the embedded bytes) unless already done. */
  init(module?: WebAssembly.Module | BufferSource): Promise<void>;
}

export function loader(glue: Glue, base64: string): Loader {
  let done = false;
  const bytes = (): Uint8Array => {
    // atob exists in Node ≥ 16 and every Web-API runtime; Buffer does not.
    const binary = atob(base64);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  };
  return {
    ready() {
      if (done) return;
      glue.initSync({ module: bytes() });
      done = true;
    },
    async init(module) {
      if (done) return;
      await glue.default({ module_or_path: module ?? bytes() });
      done = true;
    },
  };
}
