/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) served from real FileDescriptorProtos.
 *
 * Why not @grpc/reflection: grpcurl resolves descriptors strictly — `file_containing_symbol`, then every
 * name in each file's `dependency` list by `file_by_filename`, recursively. @grpc/reflection 1.0.4 serves
 * files with empty dependency lists (synthetic ones such as `google_protobuf.proto` when fed a
 * proto-loader package definition; the real names but still no dependencies when fed a descriptor set),
 * and answers "not found" for `file_by_filename` of `google/protobuf/struct.proto`, so every message using
 * google.protobuf types fails in grpcurl with "cannot resolve type" (fullstorydev/grpcurl#459; measured
 * here, see /work/shared/PITFALLS.md "gRPC reflection and grpcurl").
 *
 * So this module answers the (small) protocol itself with the UNTOUCHED serialized FileDescriptorProtos
 * of the descriptor set that `buf build` writes (libs/proto/descriptor.binpb, imports included), plus
 * libs/rpc/protos/builtin.binpb for grpc.health.v1 and the reflection services (see protos/build.sh).
 * Descriptors are parsed with @bufbuild/protobuf; the reflection messages themselves go through
 * @grpc/proto-loader, loaded from the same builtin descriptor set.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { loadFileDescriptorSetFromBuffer, type PackageDefinition } from "@grpc/proto-loader";

/** FileDescriptorSet (buf build) of grpc/health/v1/health.proto and grpc/reflection/{v1,v1alpha}/reflection.proto. */
export const builtinDescriptorSetPath = fileURLToPath(new URL("../protos/builtin.binpb", import.meta.url));

export const REFLECTION_V1 = "grpc.reflection.v1.ServerReflection" as const;
export const REFLECTION_V1ALPHA = "grpc.reflection.v1alpha.ServerReflection" as const;

/** gRPC status codes used in error_response. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const INTERNAL = 13;

export interface ReflectionOptions {
  /** FileDescriptorSet written by `buf build` with imports (e.g. `descriptorSetPath` of @taskorch/proto). */
  descriptorSetPath: string;
  /** More serialized FileDescriptorProtos to serve (their dependencies must be served too). */
  extraFiles?: Uint8Array[];
  /**
   * Full names of the services actually registered on the server, for list_services. The reflection
   * services are always added. Default: every service declared in the served files.
   */
  services?: string[];
}

// ---- Reflection messages as @grpc/proto-loader objects (keepCase, oneofs) ----

export type ReflectionRequestKind =
  | "file_by_filename"
  | "file_containing_symbol"
  | "file_containing_extension"
  | "all_extension_numbers_of_type"
  | "list_services";

export interface ReflectionRequest {
  host?: string;
  /** Which oneof member is set (proto-loader `oneofs: true`); ignored when encoding. */
  message_request?: ReflectionRequestKind;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

export interface ReflectionResponse {
  valid_host?: string;
  original_request?: ReflectionRequest;
  message_response?:
    | "file_descriptor_response"
    | "all_extension_numbers_response"
    | "list_services_response"
    | "error_response";
  file_descriptor_response?: { file_descriptor_proto?: Uint8Array[] };
  all_extension_numbers_response?: { base_type_name?: string; extension_number?: number[] };
  list_services_response?: { service?: { name?: string }[] };
  error_response?: { error_code?: number; error_message?: string };
}

let builtin: { files: Uint8Array[]; packageDefinition: PackageDefinition } | undefined;

/** The builtin files and the proto-loader package definition of the reflection services (loaded once). */
export function loadBuiltinReflectionProtos(): { files: Uint8Array[]; packageDefinition: PackageDefinition } {
  if (!builtin) {
    const bytes = readFileSync(builtinDescriptorSetPath);
    builtin = {
      files: splitFileDescriptorSet(bytes),
      packageDefinition: loadFileDescriptorSetFromBuffer(bytes, {
        keepCase: true,
        longs: String,
        enums: String,
        defaults: false,
        oneofs: true,
      }),
    };
  }
  return builtin;
}

/** The untouched bytes of each FileDescriptorProto (field 1, `file`) of a serialized FileDescriptorSet. */
export function splitFileDescriptorSet(bytes: Uint8Array): Uint8Array[] {
  const files: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType, fieldNo);
  }
  return files;
}

interface IndexedFile {
  proto: FileDescriptorProto;
  bytes: Uint8Array;
}

/** Every served file by name, every symbol to the file declaring it, every extension by (extendee, number). */
export class DescriptorIndex {
  readonly files = new Map<string, IndexedFile>();
  readonly symbols = new Map<string, string>();
  readonly messages = new Set<string>();
  readonly services: string[] = [];
  /** extendee full name -> field number -> file name */
  readonly extensions = new Map<string, Map<number, string>>();

  /** Adds files in order; a file name or symbol already present keeps its first definition. */
  constructor(serializedFiles: Iterable<Uint8Array>) {
    for (const bytes of serializedFiles) {
      const proto = fromBinary(FileDescriptorProtoSchema, bytes);
      if (this.files.has(proto.name)) continue;
      this.files.set(proto.name, { proto, bytes });
      this.indexFile(proto);
    }
    for (const { proto } of this.files.values()) {
      for (const dep of proto.dependency) {
        if (!this.files.has(dep)) {
          throw new Error(`reflection: ${proto.name} imports ${dep}, which is not among the served files`);
        }
      }
    }
  }

  /** The file, then its transitive dependencies not in `alreadySent` (which is updated). */
  fileWithDependencies(name: string, alreadySent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const visit = (n: string, requested: boolean) => {
      const file = this.files.get(n);
      if (!file || (!requested && alreadySent.has(n))) return;
      alreadySent.add(n);
      out.push(file.bytes);
      for (const dep of file.proto.dependency) visit(dep, false);
    };
    visit(name, true);
    return out;
  }

  extensionNumbersOf(typeName: string): number[] {
    return [...(this.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
  }

  private indexFile(file: FileDescriptorProto): void {
    const prefix = file.package ? `${file.package}.` : "";
    const add = (symbol: string) => {
      if (!this.symbols.has(symbol)) this.symbols.set(symbol, file.name);
    };
    const addEnum = (scope: string, e: EnumDescriptorProto) => {
      add(scope + e.name);
      for (const v of e.value) {
        add(scope + v.name); // protobuf scoping: values are siblings of their enum
        add(`${scope}${e.name}.${v.name}`);
      }
    };
    const addExtension = (scope: string, ext: FieldDescriptorProto) => {
      add(scope + ext.name);
      const extendee = ext.extendee.replace(/^\./, "");
      let byNumber = this.extensions.get(extendee);
      if (!byNumber) this.extensions.set(extendee, (byNumber = new Map()));
      if (!byNumber.has(ext.number)) byNumber.set(ext.number, file.name);
    };
    const addMessage = (scope: string, m: DescriptorProto) => {
      const full = scope + m.name;
      add(full);
      this.messages.add(full);
      for (const f of m.field) add(`${full}.${f.name}`);
      for (const o of m.oneofDecl) add(`${full}.${o.name}`);
      for (const nested of m.nestedType) addMessage(`${full}.`, nested);
      for (const e of m.enumType) addEnum(`${full}.`, e);
      for (const ext of m.extension) addExtension(`${full}.`, ext);
    };
    for (const m of file.messageType) addMessage(prefix, m);
    for (const e of file.enumType) addEnum(prefix, e);
    for (const ext of file.extension) addExtension(prefix, ext);
    for (const s of file.service) {
      const full = prefix + s.name;
      add(full);
      if (!this.services.includes(full)) this.services.push(full);
      for (const method of s.method) add(`${full}.${method.name}`);
    }
  }
}

/** Answers one reflection request; `sent` is the set of file names already sent on this stream. */
export function answerReflectionRequest(
  index: DescriptorIndex,
  services: readonly string[],
  request: ReflectionRequest,
  sent: Set<string>,
): ReflectionResponse {
  const base = { valid_host: request.host ?? "", original_request: request };
  const error = (code: number, message: string): ReflectionResponse => ({
    ...base,
    error_response: { error_code: code, error_message: message },
  });
  const files = (name: string): ReflectionResponse => ({
    ...base,
    file_descriptor_response: { file_descriptor_proto: index.fileWithDependencies(name, sent) },
  });
  const symbolName = (s: string) => s.replace(/^\./, "");

  switch (request.message_request) {
    case "list_services":
      return { ...base, list_services_response: { service: services.map((name) => ({ name })) } };
    case "file_by_filename": {
      const name = request.file_by_filename ?? "";
      return index.files.has(name) ? files(name) : error(NOT_FOUND, `file not found: ${name}`);
    }
    case "file_containing_symbol": {
      const symbol = symbolName(request.file_containing_symbol ?? "");
      const file = index.symbols.get(symbol);
      return file ? files(file) : error(NOT_FOUND, `symbol not found: ${symbol}`);
    }
    case "file_containing_extension": {
      const type = symbolName(request.file_containing_extension?.containing_type ?? "");
      const number = request.file_containing_extension?.extension_number ?? 0;
      const file = index.extensions.get(type)?.get(number);
      return file ? files(file) : error(NOT_FOUND, `extension not found: ${type} field ${number}`);
    }
    case "all_extension_numbers_of_type": {
      const type = symbolName(request.all_extension_numbers_of_type ?? "");
      if (!index.messages.has(type)) return error(NOT_FOUND, `message type not found: ${type}`);
      return {
        ...base,
        all_extension_numbers_response: { base_type_name: type, extension_number: index.extensionNumbersOf(type) },
      };
    }
    default:
      return error(INVALID_ARGUMENT, "empty or unknown reflection request");
  }
}

/**
 * Registers grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection on `server`,
 * serving the files of `options.descriptorSetPath`, `options.extraFiles`, and the builtin health and
 * reflection files. Throws when a served file imports a file that is not served, or when a listed
 * service is declared in no served file (a strict client could not describe it).
 */
export function addReflection(server: grpc.Server, options: ReflectionOptions): void {
  const index = new DescriptorIndex([
    ...splitFileDescriptorSet(readFileSync(options.descriptorSetPath)),
    ...(options.extraFiles ?? []),
    ...loadBuiltinReflectionProtos().files,
  ]);
  const services = [...new Set([...(options.services ?? index.services), REFLECTION_V1, REFLECTION_V1ALPHA])];
  for (const name of services) {
    if (!index.services.includes(name)) {
      throw new Error(`reflection: service ${name} is declared in no served file; pass its file in extraFiles`);
    }
  }

  const serverReflectionInfo = (call: grpc.ServerDuplexStream<ReflectionRequest, ReflectionResponse>) => {
    const sent = new Set<string>();
    call.on("data", (request: ReflectionRequest) => {
      let response: ReflectionResponse;
      try {
        response = answerReflectionRequest(index, services, request, sent);
      } catch (err) {
        response = {
          valid_host: request.host ?? "",
          original_request: request,
          error_response: { error_code: INTERNAL, error_message: String(err) },
        };
      }
      call.write(response);
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined); // client went away; nothing to clean up
  };

  for (const name of [REFLECTION_V1, REFLECTION_V1ALPHA] as const) {
    server.addService(reflectionServiceDefinition(name), { ServerReflectionInfo: serverReflectionInfo });
  }
}

/** grpc-js definition of ServerReflection (single method `ServerReflectionInfo`), for servers and clients. */
export function reflectionServiceDefinition(name: typeof REFLECTION_V1 | typeof REFLECTION_V1ALPHA): grpc.ServiceDefinition {
  const definition = loadBuiltinReflectionProtos().packageDefinition[name];
  if (!definition || !("ServerReflectionInfo" in definition)) {
    throw new Error(`reflection: ${name} missing from ${builtinDescriptorSetPath}`);
  }
  return definition as grpc.ServiceDefinition;
}
