import { fileURLToPath } from "node:url";

/**
 * Path of the FileDescriptorSet that `buf build` writes (with imports), for server reflection:
 * it keeps each file's real name and dependency list, which strict clients such as grpcurl need.
 */
export const descriptorSetPath = fileURLToPath(new URL("../descriptor.binpb", import.meta.url));
