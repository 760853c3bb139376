import { ZhuyiError } from '../../tensor/errors.js';

/** A bad vocabulary or tokenizer file, or an encode/decode request that cannot be honoured. Messages name the file, line or key. */
export class BertTokenizerError extends ZhuyiError {}
