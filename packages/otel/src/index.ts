export {
  instrument,
  SEMCONV_VERSION,
  INSTRUMENTATION_NAME,
  DURATION_BUCKETS_S,
  TOKEN_BUCKETS,
  type InstrumentOptions,
  type Instrumentation,
} from "./instrument";
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
