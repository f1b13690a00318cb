/**
 * A loopback HTTP server for the zoo download tests (Deno.serve on 127.0.0.1, port 0): serves byte arrays by path,
 * honours `Range: bytes=N-` with 206, and can misbehave on purpose (truncate, interrupt, stall, ignore ranges,
 * send more bytes). Records every request so tests can prove what travelled.
 *
 * @module
 */
import type { ZooFile } from "../zoo/files.ts";

/** How the server answers one path. */
export type Behaviour =
  | "ok"
  /** ignores Range, always 200 with the whole body */
  | "no-range"
  /** sends `cut` bytes (chunked, no length) and ends the body cleanly */
  | "truncate"
  /** sends `cut` bytes then breaks the connection (once; later requests are served normally) */
  | "interrupt"
  /** sends `cut` bytes then nothing */
  | "stall"
  /** sends the body twice */
  | "too-long"
  /** sends the body slowly (in 8 pieces, 50 ms apart), so concurrent clients overlap */
  | "slow";

/** One request as the server saw it. */
export interface SeenRequest {
  readonly path: string;
  readonly range: string | null;
  readonly status: number;
}

/** A running test server. */
export interface ZooTestServer {
  readonly base: string;
  readonly requests: SeenRequest[];
  serve(path: string, body: Uint8Array, behaviour?: Behaviour, cut?: number): void;
  close(): Promise<void>;
}

/** Starts the server; close it at the end of the test. */
export function startZooServer(): ZooTestServer {
  const routes = new Map<string, { body: Uint8Array; behaviour: Behaviour; cut: number }>();
  const requests: SeenRequest[] = [];
  const pending = new Set<() => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    const route = routes.get(path);
    const seen = (status: number) => requests.push({ path, range, status });
    if (!route) {
      seen(404);
      return new Response("not found", { status: 404, statusText: "Not Found" });
    }
    const { body, behaviour, cut } = route;
    if (behaviour === "interrupt") route.behaviour = "ok"; // the next try (the resume) is served normally
    const start = range && behaviour !== "no-range" ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
    if (start >= body.length && start > 0) {
      seen(416);
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${body.length}` } });
    }
    const status = start > 0 ? 206 : 200;
    seen(status);
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (status === 206) headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    const rest = body.slice(start);
    if (behaviour === "ok" || behaviour === "no-range") {
      return new Response(rest, { status, headers: { ...headers, "content-length": String(rest.length) } });
    }
    if (behaviour === "too-long") {
      const twice = new Uint8Array(rest.length * 2);
      twice.set(rest);
      twice.set(rest, rest.length);
      return new Response(twice, { status, headers });
    }
    let step = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (behaviour === "slow") {
          const piece = Math.ceil(rest.length / 8);
          if (step * piece >= rest.length) return controller.close();
          await delay(50, pending);
          controller.enqueue(rest.slice(step * piece, ++step * piece));
          return;
        }
        if (step++ === 0) return controller.enqueue(rest.slice(0, cut));
        if (behaviour === "truncate") return controller.close();
        if (behaviour === "interrupt") return controller.error(new Error("connection reset by the test server"));
        await delay(60_000, pending); // stall: the client gives up first (or the server closes)
        controller.close();
      },
    });
    const length = behaviour === "interrupt" || behaviour === "stall" || behaviour === "slow"
      ? { "content-length": String(rest.length) }
      : {} as Record<string, string>;
    return new Response(stream, { status, headers: { ...headers, ...length } });
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    requests,
    serve(path, body, behaviour = "ok", cut = 0) {
      routes.set(path, { body, behaviour, cut });
    },
    async close() {
      for (const wake of [...pending]) wake();
      await server.shutdown();
    },
  };
}

function delay(ms: number, pending: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(t);
      pending.delete(wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    pending.add(wake);
  });
}

/** Deterministic pseudo-random bytes (xorshift), so no two test files share content. */
export function testBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The ZooFile for `body` at mirror path `path`, downloadable from `url` (sha256 by Web Crypto, not our hasher). */
export async function zooFileFor(path: string, body: Uint8Array, url: string): Promise<ZooFile> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
  return { path, url, bytes: body.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") };
}
