import { MAX_JSON_DEPTH, MAX_JSON_VALUES } from './limits.js';

/*
 * JSON.parse builds whatever it is given: 8 MB of `[` is four million nested arrays, seconds of a blocked event
 * loop and hundreds of megabytes of heap. A byte scan (brackets and commas outside strings) finds such a body
 * first, in a few milliseconds for the largest one accepted, so that the parser only ever sees bounded shapes.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

export interface JsonShapeLimits {
  maxDepth: number;
  maxValues: number;
}

export const JSON_SHAPE_LIMITS: JsonShapeLimits = { maxDepth: MAX_JSON_DEPTH, maxValues: MAX_JSON_VALUES };

/**
 * Why the JSON text in `bytes` is beyond the limits (nested too deep, too many values), as a message to follow
 * "the body"; null when it is within them. Says nothing about whether it is valid JSON: the parser does that.
 */
export function jsonShapeProblem(
  bytes: Uint8Array,
  limits: JsonShapeLimits = JSON_SHAPE_LIMITS,
): string | null {
  const { maxDepth, maxValues } = limits;
  const end = bytes.length;
  let depth = 0;
  let values = 0;
  for (let i = 0; i < end; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      // Skip the string: to its closing quote, stepping over escaped characters.
      for (i++; i < end; i++) {
        const inner = bytes[i];
        if (inner === BACKSLASH) i++;
        else if (inner === QUOTE) break;
      }
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return `is nested deeper than ${maxDepth} levels`;
      if (++values > maxValues) return `holds more than ${maxValues} values`;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    } else if (byte === COMMA) {
      if (++values > maxValues) return `holds more than ${maxValues} values`;
    }
  }
  return null;
}
