import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { HealthImplementation } from "grpc-health-check";
import { descriptorSetPath, SchedulerServiceService, Task, TaskStatus, type SchedulerServiceServer } from "@taskorch/proto";
import {
  addReflection,
  answerReflectionRequest,
  DescriptorIndex,
  REFLECTION_V1,
  REFLECTION_V1ALPHA,
  splitFileDescriptorSet,
  type ReflectionResponse,
} from "./reflection.js";
import { invokeViaReflection, listServicesViaReflection, ReflectionClient, ReflectionError } from "./reflection-client.js";

const NOT_FOUND = 5;

const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) =>
  callback({ code: grpc.status.UNIMPLEMENTED, details: "not in this test" });

/** Trivial scheduler: EnqueueTask echoes the request into a task; GetTask always answers NOT_FOUND. */
const scheduler: SchedulerServiceServer = {
  enqueueTask: (call, callback) =>
    callback(null, {
      task: Task.fromPartial({
        id: "0190c0de-0000-7000-8000-000000000001",
        type: call.request.type,
        queue: call.request.queue || "default",
        payload: call.request.payload,
        status: TaskStatus.TASK_STATUS_PENDING,
        maxAttempts: call.request.maxAttempts ?? 3,
        createdAt: new Date("2025-01-02T03:04:05.000Z"),
      }),
      deduplicated: false,
    }),
  getTask: (call, callback) => callback({ code: grpc.status.NOT_FOUND, details: `task ${call.request.id} not found` }),
  enqueueTasks: unimplemented,
  listTasks: unimplemented,
  cancelTask: unimplemented,
  retryTask: unimplemented,
  waitTask: unimplemented,
};

let server: grpc.Server;
let address: string;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(SchedulerServiceService, scheduler);
  new HealthImplementation({ "": "SERVING", "taskorch.v1.SchedulerService": "SERVING" }).addToServer(server);
  addReflection(server, {
    descriptorSetPath,
    services: ["taskorch.v1.SchedulerService", "grpc.health.v1.Health"],
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => server?.forceShutdown());

const decode = (bytes: Uint8Array): FileDescriptorProto => fromBinary(FileDescriptorProtoSchema, bytes);
const filesOf = (r: ReflectionResponse): Uint8Array[] => r.file_descriptor_response?.file_descriptor_proto ?? [];

/** Fully-qualified names (with the leading dot descriptors use) of every message and enum in the files. */
function definedTypes(files: Iterable<FileDescriptorProto>): Set<string> {
  const out = new Set<string>();
  const walk = (scope: string, m: DescriptorProto) => {
    out.add(`${scope}.${m.name}`);
    for (const e of m.enumType) out.add(`${scope}.${m.name}.${e.name}`);
    for (const n of m.nestedType) walk(`${scope}.${m.name}`, n);
  };
  for (const f of files) {
    const scope = f.package ? `.${f.package}` : "";
    for (const m of f.messageType) walk(scope, m);
    for (const e of f.enumType) out.add(`${scope}.${e.name}`);
  }
  return out;
}

/** Every type name referenced by a method input/output or a field, with where it was referenced. */
function referencedTypes(files: Iterable<FileDescriptorProto>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (where: string, m: DescriptorProto) => {
    for (const f of m.field) if (f.typeName) out.set(f.typeName, `${where}.${m.name}.${f.name}`);
    for (const n of m.nestedType) walk(`${where}.${m.name}`, n);
  };
  for (const f of files) {
    for (const m of f.messageType) walk(f.name, m);
    for (const s of f.service) {
      for (const m of s.method) {
        out.set(m.inputType, `${s.name}.${m.name} input`);
        out.set(m.outputType, `${s.name}.${m.name} output`);
      }
    }
  }
  return out;
}

describe.each(["v1", "v1alpha"] as const)("reflection %s, as strict as grpcurl", (version) => {
  it("lists exactly the registered services plus reflection itself", async () => {
    expect((await listServicesViaReflection(address, { version })).sort()).toEqual([
      "grpc.health.v1.Health",
      REFLECTION_V1,
      REFLECTION_V1ALPHA,
      "taskorch.v1.SchedulerService",
    ]);
  });

  it("resolves SchedulerService and every dependency by file_by_filename, with all types defined", async () => {
    const client = new ReflectionClient(address, { version });
    try {
      const resolved = new Map<string, FileDescriptorProto>();
      const first = await client.request({ file_containing_symbol: "taskorch.v1.SchedulerService" });
      expect(first.error_response).toBeUndefined();
      const root = decode(filesOf(first)[0] ?? new Uint8Array());
      expect(root.name).toBe("taskorch/v1/scheduler_service.proto");
      expect(root.service.map((s) => s.name)).toEqual(["SchedulerService"]);
      // Strict: only the requested file of each answer counts; every dependency is asked for by name.
      resolved.set(root.name, root);
      const queue = [...root.dependency];
      for (let dep = queue.shift(); dep !== undefined; dep = queue.shift()) {
        if (resolved.has(dep)) continue;
        const answer = await client.request({ file_by_filename: dep });
        expect(answer.error_response, `file_by_filename(${dep})`).toBeUndefined();
        const file = decode(filesOf(answer)[0] ?? new Uint8Array());
        expect(file.name).toBe(dep);
        resolved.set(file.name, file);
        queue.push(...file.dependency);
      }
      expect([...resolved.keys()].sort()).toEqual([
        "google/protobuf/duration.proto",
        "google/protobuf/field_mask.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/timestamp.proto",
        "taskorch/v1/scheduler_service.proto",
        "taskorch/v1/task.proto",
      ]);

      const defined = definedTypes(resolved.values());
      const referenced = referencedTypes(resolved.values());
      for (const name of [".google.protobuf.Value", ".google.protobuf.Duration", ".google.protobuf.Timestamp", ".google.protobuf.FieldMask", ".taskorch.v1.Task"]) {
        expect(referenced.has(name), name).toBe(true);
      }
      const unresolved = [...referenced].filter(([name]) => !defined.has(name)).map(([n, where]) => `${n} (${where})`);
      expect(unresolved).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("serves the untouched FileDescriptorProto bytes of the descriptor set", async () => {
    const original = new Map(splitFileDescriptorSet(readFileSync(descriptorSetPath)).map((b) => [decode(b).name, b]));
    const client = new ReflectionClient(address, { version });
    try {
      for (const [name, bytes] of original) {
        const [served] = await client.fileByFilename(name);
        expect(Buffer.from(served ?? []).equals(Buffer.from(bytes)), name).toBe(true);
      }
    } finally {
      client.close();
    }
  });

  it("finds methods, nested messages, enums and enum values; health and reflection files too", async () => {
    const client = new ReflectionClient(address, { version });
    try {
      const fileOf = async (symbol: string) => decode((await client.fileContainingSymbol(symbol))[0] ?? new Uint8Array()).name;
      expect(await fileOf("taskorch.v1.SchedulerService.EnqueueTask")).toBe("taskorch/v1/scheduler_service.proto");
      expect(await fileOf("taskorch.v1.EnqueueTaskRequest")).toBe("taskorch/v1/scheduler_service.proto");
      expect(await fileOf("taskorch.v1.Task")).toBe("taskorch/v1/task.proto");
      expect(await fileOf("taskorch.v1.TaskStatus")).toBe("taskorch/v1/task.proto");
      expect(await fileOf("taskorch.v1.TASK_STATUS_PENDING")).toBe("taskorch/v1/task.proto");
      expect(await fileOf("taskorch.v1.TaskStatus.TASK_STATUS_PENDING")).toBe("taskorch/v1/task.proto");
      expect(await fileOf("google.protobuf.Struct.FieldsEntry")).toBe("google/protobuf/struct.proto");
      expect(await fileOf("google.protobuf.NULL_VALUE")).toBe("google/protobuf/struct.proto");
      expect(await fileOf("grpc.health.v1.Health")).toBe("grpc/health/v1/health.proto");
      expect(await fileOf("grpc.health.v1.HealthCheckResponse.ServingStatus")).toBe("grpc/health/v1/health.proto");
      expect(await fileOf(REFLECTION_V1)).toBe("grpc/reflection/v1/reflection.proto");
      expect(await fileOf(`${REFLECTION_V1ALPHA}.ServerReflectionInfo`)).toBe("grpc/reflection/v1alpha/reflection.proto");

      // `grpcurl describe` of health and of reflection itself resolve to complete registries.
      const health = (await client.resolve("grpc.health.v1.Health")).getService("grpc.health.v1.Health");
      expect(health?.methods.map((m) => m.name)).toEqual(["Check", "Watch", "List"]);
      const reflection = (await client.resolve(REFLECTION_V1)).getService(REFLECTION_V1);
      expect(reflection?.methods[0]?.methodKind).toBe("bidi_streaming");
    } finally {
      client.close();
    }
  });

  it("answers unknown names with error_response NOT_FOUND and keeps the stream open", async () => {
    const client = new ReflectionClient(address, { version });
    try {
      const unknown = await client.request({ host: "h", file_containing_symbol: "taskorch.v1.NoSuchThing" });
      expect(unknown.error_response?.error_code).toBe(NOT_FOUND);
      expect(unknown.error_response?.error_message).toContain("taskorch.v1.NoSuchThing");
      expect(unknown.valid_host).toBe("h");
      expect(unknown.original_request?.file_containing_symbol).toBe("taskorch.v1.NoSuchThing");

      expect((await client.request({ file_by_filename: "nope.proto" })).error_response?.error_code).toBe(NOT_FOUND);
      const ext = await client.request({
        file_containing_extension: { containing_type: "taskorch.v1.Task", extension_number: 1000 },
      });
      expect(ext.error_response?.error_code).toBe(NOT_FOUND);
      expect((await client.request({ all_extension_numbers_of_type: "no.Such" })).error_response?.error_code).toBe(NOT_FOUND);
      await expect(client.fileContainingSymbol("no.Such")).rejects.toBeInstanceOf(ReflectionError);

      // Same stream, next requests still answered.
      const numbers = await client.request({ all_extension_numbers_of_type: "taskorch.v1.Task" });
      expect(numbers.message_response).toBe("all_extension_numbers_response");
      expect(numbers.all_extension_numbers_response?.base_type_name).toBe("taskorch.v1.Task");
      expect(numbers.all_extension_numbers_response?.extension_number ?? []).toEqual([]); // empty repeated: absent on the wire
      expect(await client.listServices()).toContain("taskorch.v1.SchedulerService");
      expect(decode((await client.fileContainingSymbol("taskorch.v1.Task"))[0] ?? new Uint8Array()).name).toBe(
        "taskorch/v1/task.proto",
      );
    } finally {
      client.close();
    }
  });

  it("invokes EnqueueTask from JSON through the resolved descriptors, like grpcurl -d", async () => {
    const response = await invokeViaReflection(
      address,
      "taskorch.v1.SchedulerService/EnqueueTask",
      { type: "email.send", payload: { to: "a@b.c" } },
      { version },
    );
    expect(response).toEqual({
      task: {
        id: "0190c0de-0000-7000-8000-000000000001",
        type: "email.send",
        queue: "default",
        payload: { to: "a@b.c" },
        status: "TASK_STATUS_PENDING",
        maxAttempts: 3,
        createdAt: "2025-01-02T03:04:05Z",
      },
    });
  });
});

describe("invokeViaReflection errors", () => {
  it("rejects with the gRPC status of the call", async () => {
    await expect(invokeViaReflection(address, "taskorch.v1.SchedulerService/GetTask", { id: "x" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it("rejects unknown services and methods before calling", async () => {
    await expect(invokeViaReflection(address, "taskorch.v1.Nope/EnqueueTask", {})).rejects.toMatchObject({ code: NOT_FOUND });
    await expect(invokeViaReflection(address, "taskorch.v1.SchedulerService/Nope", {})).rejects.toThrow(/no method Nope/);
  });
});

describe("descriptor index", () => {
  const files = splitFileDescriptorSet(readFileSync(descriptorSetPath));

  it("lists every service of the served files when no services are given", () => {
    const index = new DescriptorIndex(files);
    const answer = answerReflectionRequest(index, index.services, { message_request: "list_services", list_services: "" }, new Set());
    expect(answer.list_services_response?.service?.map((s) => s.name)).toEqual(
      expect.arrayContaining(["taskorch.v1.SchedulerService", "taskorch.v1.CoordinatorService"]),
    );
  });

  it("sends a file's transitive dependencies once per stream", () => {
    const index = new DescriptorIndex(files);
    const sent = new Set<string>();
    const names = (bytes: Uint8Array[]) => bytes.map((b) => decode(b).name);
    expect(names(index.fileWithDependencies("taskorch/v1/task.proto", sent)).sort()).toEqual([
      "google/protobuf/duration.proto",
      "google/protobuf/struct.proto",
      "google/protobuf/timestamp.proto",
      "taskorch/v1/task.proto",
    ]);
    // Only what this stream has not had yet: the file itself and its one new import.
    expect(names(index.fileWithDependencies("taskorch/v1/scheduler_service.proto", sent)).sort()).toEqual([
      "google/protobuf/field_mask.proto",
      "taskorch/v1/scheduler_service.proto",
    ]);
    expect(names(index.fileWithDependencies("google/protobuf/struct.proto", sent))).toEqual(["google/protobuf/struct.proto"]);
  });

  it("refuses files whose imports are not served, and listed services nobody declares", () => {
    const orphan = toBinary(
      FileDescriptorProtoSchema,
      create(FileDescriptorProtoSchema, { name: "x/orphan.proto", dependency: ["x/missing.proto"] }),
    );
    expect(() => addReflection(new grpc.Server(), { descriptorSetPath, extraFiles: [orphan] })).toThrow(/x\/missing\.proto/);
    expect(() => addReflection(new grpc.Server(), { descriptorSetPath, services: ["x.Unknown"] })).toThrow(/x\.Unknown/);
  });
});
