// Reading
export {
  GgufFormatError,
  type GgufHeader,
  type GgufProblem,
  parseGgufHeader,
  readGgufHeader,
  readGgufHeaderSync,
  type ReadGgufHeaderOptions,
} from "./reader";
// Writing
export { encodeGguf, type GgufTensorToWrite } from "./writer";
// The type table
export {
  GGML_TYPE,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  type GgmlTypeInfo,
  type GgufMetadataValue,
  type GgufTensorInfo,
  type GgufValueType,
  type GgufWriteValue,
  ggmlTensorByteSize,
  LLAMA_FILE_TYPE,
  LLAMA_FILE_TYPE_NAMES,
} from "./types";
// Quantizers
export {
  decodeTensor,
  encodedSize,
  encodeTensor,
  ggmlTypeOf,
  QUANT_BLOCK_SIZE,
  quantizeQ4_0,
  quantizeQ8_0,
  type TinyGgufQuantization,
} from "./quantize";
export { float16BitsToFloat32, float32ToFloat16Bits, roundToFloat16 } from "./fp16";
// The tiny-model writer
export {
  buildTinyGguf,
  buildTinyGgufWithInfo,
  type TinyGgufInfo,
  type TinyGgufOptions,
  type TinyGgufTokenIds,
  writeTinyGguf,
} from "./tiny-model";
export { CHAT_MARKERS, TINY_CHAT_TEMPLATE } from "./vocabulary";
