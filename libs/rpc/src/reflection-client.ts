/**
 * A reflection client that behaves like grpcurl: it lists services, fetches the file declaring a symbol,
 * then fetches every file named in a `dependency` list by `file_by_filename` until the set is closed, and
 * makes dynamic calls with JSON in / JSON out from the resolved descriptors (@bufbuild/protobuf).
 * Used by tests (reflection.test.ts and grpcurl-recipe tests); works against any reflection server.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, fromJson, toBinary, toJson, createFileRegistry, type FileRegistry, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import {
  reflectionServiceDefinition,
  REFLECTION_V1,
  REFLECTION_V1ALPHA,
  type ReflectionRequest,
  type ReflectionResponse,
} from "./reflection.js";

export interface ReflectionClientOptions {
  /** Reflection protocol version (default "v1"). */
  version?: "v1" | "v1alpha";
  /** Default: insecure. */
  credentials?: grpc.ChannelCredentials;
  /** Deadline of each reflection stream / call, in ms (default 10000). */
  timeoutMs?: number;
}

/** A reflection request answered with error_response. */
export class ReflectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "ReflectionError";
  }
}

/** One ServerReflectionInfo stream; requests are answered in order. Call close() when done. */
export class ReflectionClient {
  private readonly client: grpc.Client;
  private readonly stream: grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  private readonly pending: { resolve: (r: ReflectionResponse) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(address: string, options: ReflectionClientOptions = {}) {
    const service = options.version === "v1alpha" ? REFLECTION_V1ALPHA : REFLECTION_V1;
    const method = reflectionServiceDefinition(service)["ServerReflectionInfo"];
    if (!method) throw new Error(`${service} has no ServerReflectionInfo`);
    this.client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
    this.stream = this.client.makeBidiStreamRequest<ReflectionRequest, ReflectionResponse>(
      method.path,
      method.requestSerialize as (r: ReflectionRequest) => Buffer,
      method.responseDeserialize as (b: Buffer) => ReflectionResponse,
      { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
    );
    this.stream.on("data", (response: ReflectionResponse) => this.pending.shift()?.resolve(response));
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    this.stream.on("error", fail);
    this.stream.on("end", () => fail(new Error("reflection stream ended")));
  }

  /** Sends one raw request and returns the raw response (error_response included, not thrown). */
  request(request: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.stream.write(request);
    });
  }

  /** Full names of the services the server lists. */
  async listServices(): Promise<string[]> {
    const r = this.check(await this.request({ list_services: "*" }));
    return (r.list_services_response?.service ?? []).map((s) => s.name ?? "");
  }

  /** Files of a file_by_filename answer (requested file first), serialized. */
  async fileByFilename(name: string): Promise<Uint8Array[]> {
    return this.files(await this.request({ file_by_filename: name }));
  }

  /** Files of a file_containing_symbol answer (declaring file first), serialized. */
  async fileContainingSymbol(symbol: string): Promise<Uint8Array[]> {
    return this.files(await this.request({ file_containing_symbol: symbol }));
  }

  /**
   * Resolves the file declaring `symbol` and, like grpcurl, every file its dependency lists name
   * (taking files the server volunteered, asking file_by_filename for any other). Fails when any
   * dependency cannot be resolved or any referenced type is missing.
   */
  async resolve(symbol: string): Promise<FileRegistry> {
    const files = new Map<string, FileDescriptorProto>();
    const take = (serialized: Uint8Array[]) => {
      for (const bytes of serialized) {
        const file = fromBinary(FileDescriptorProtoSchema, bytes);
        if (!files.has(file.name)) files.set(file.name, file);
      }
    };
    take(await this.fileContainingSymbol(symbol));
    for (;;) {
      const missing = [...files.values()].flatMap((f) => f.dependency).find((d) => !files.has(d));
      if (missing === undefined) break;
      const got = await this.fileByFilename(missing);
      take(got);
      if (!files.has(missing)) throw new Error(`file_by_filename(${missing}) did not return ${missing}`);
    }
    return createFileRegistry(create(FileDescriptorSetSchema, { file: topologicalOrder(files) }));
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }

  private check(response: ReflectionResponse): ReflectionResponse {
    if (response.error_response) {
      const { error_code = 2, error_message = "" } = response.error_response;
      throw new ReflectionError(error_code, error_message);
    }
    return response;
  }

  private files(response: ReflectionResponse): Uint8Array[] {
    const files = this.check(response).file_descriptor_response?.file_descriptor_proto;
    if (!files?.length) throw new Error("reflection answer carries no file_descriptor_response");
    return files;
  }
}

/** Dependencies before dependents, as createFileRegistry(FileDescriptorSet) needs. */
function topologicalOrder(files: Map<string, FileDescriptorProto>): FileDescriptorProto[] {
  const out: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    const file = files.get(name);
    if (!file || done.has(name)) return;
    done.add(name);
    for (const dep of file.dependency) visit(dep);
    out.push(file);
  };
  for (const name of files.keys()) visit(name);
  return out;
}

/** Full names of the services listed through reflection at `address` (host:port). */
export async function listServicesViaReflection(address: string, options: ReflectionClientOptions = {}): Promise<string[]> {
  const client = new ReflectionClient(address, options);
  try {
    return await client.listServices();
  } finally {
    client.close();
  }
}

export interface InvokeOptions extends ReflectionClientOptions {
  metadata?: Record<string, string>;
}

/**
 * Calls a unary method the way `grpcurl -d '<json>' address pkg.Service/Method` does: resolves the
 * service through reflection, encodes `request` (proto3 JSON) with the resolved input type, sends raw
 * bytes, and returns the response as proto3 JSON. gRPC errors reject with the grpc-js ServiceError.
 */
export async function invokeViaReflection(
  address: string,
  fullMethod: string,
  request: JsonValue,
  options: InvokeOptions = {},
): Promise<JsonValue> {
  const [serviceName, methodName, ...rest] = fullMethod.replace(/^\//, "").split("/");
  if (!serviceName || !methodName || rest.length) throw new Error(`expected "pkg.Service/Method", got ${fullMethod}`);
  const reflection = new ReflectionClient(address, options);
  let registry: FileRegistry;
  try {
    registry = await reflection.resolve(serviceName);
  } finally {
    reflection.close();
  }
  const service = registry.getService(serviceName);
  if (!service) throw new Error(`${serviceName} is not a service`);
  const method = service.methods.find((m) => m.name === methodName);
  if (!method) throw new Error(`${serviceName} has no method ${methodName}`);
  if (method.methodKind !== "unary") throw new Error(`${fullMethod} is ${method.methodKind}; only unary is supported`);

  const requestBytes = toBinary(method.input, fromJson(method.input, request, { registry }));
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  try {
    const responseBytes = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest<Uint8Array, Buffer>(
        `/${serviceName}/${methodName}`,
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (b) => b,
        requestBytes,
        metadata,
        { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
        (err, value) => (err || !value ? reject(err ?? new Error("empty response")) : resolve(value)),
      );
    });
    return toJson(method.output, fromBinary(method.output, responseBytes), { registry });
  } finally {
    client.close();
  }
}
