export { instrument } from "./instrument";
export { SEMCONV_VERSION, INSTRUMENTATION_NAME, type InstrumentOptions, type Instrumentation } from "./options";
export { DURATION_BUCKETS_S, TOKEN_BUCKETS } from "./metrics";
export type {
  InstrumentableRegistry,
  CallEventLike,
  CascadeStageEventLike,
  CascadeAnswerLike,
  SelectionEventLike,
  OutcomeEventLike,
  ExplanationLike,
  CandidateLike,
  AttemptLike,
  ResultLike,
  StreamLike,
  StreamChunkLike,
} from "./registry-shape";
