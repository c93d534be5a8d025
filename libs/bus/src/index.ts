export { subjectsFor, type Subjects } from "./subjects.js";
export { connectBus, pingBus, type NatsConnection, type BusConnectionConfig } from "./connection.js";
export { ensureStreams, ensureDispatchConsumer, ensureReportsConsumer } from "./streams.js";
export { StreamPublisher, type PublishOptions } from "./publisher.js";
export { Dispatcher, DISPATCH_BATCH_HEADER, MAX_DISPATCH_BATCH } from "./dispatcher.js";
export { encodeDispatch, jsonFromBytes, durationToMs } from "./codec.js";
export { StreamRepairer } from "./stream-repairer.js";
export { busAuthOptions, busAuthFromSettings, type BusAuthConfig } from "./auth.js";
export { AdmissionNudger, decodeAdmissionEvent, type AdmissionEvent } from "./admission-events.js";
