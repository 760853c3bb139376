/** Base class of every error zhuyi throws on purpose. Messages name the op or module, the shapes, and what was expected. */
export class ZhuyiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit an op: `matmul: inner dimensions differ: [2,3] @ [4,5]`. */
export class ShapeError extends ZhuyiError {}

/** A dtype an op does not accept, or a value that does not fit a dtype. */
export class DTypeError extends ZhuyiError {}

/** Any other bad argument: an axis out of range, a negative size, a wrong option. */
export class ArgumentError extends ZhuyiError {}

/** Formats a shape the way every message prints it: `[2,3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
