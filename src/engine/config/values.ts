/**
 * Text → value conversions for config entries, following NiftyNet's `user_parameters_helper`: booleans as
 * `str2boolean` (`true/yes/t/y/1`, `false/no/f/n/0`), arrays as comma-separated lists with optional surrounding
 * parentheses or brackets (`(1.0, 1.0, 1.0)`, `T1, FLAIR`, `()` for empty), strings with optional surrounding quotes
 * (`cuda_devices = ""` is empty).
 *
 * @module
 */

/** Strips one pair of matching surrounding quotes. */
export function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t.at(-1) === t[0]) return t.slice(1, -1).trim();
  return t;
}

/** Splits `(a, b, c)`, `[a, b]` or `a, b` into trimmed, unquoted, non-empty items. */
export function splitList(text: string): string[] {
  let t = text.trim();
  while (t.length >= 2 && ((t[0] === "(" && t.at(-1) === ")") || (t[0] === "[" && t.at(-1) === "]"))) {
    t = t.slice(1, -1).trim();
  }
  return t.split(",").map(unquote).filter((s) => s.length > 0);
}

/** Outcome of a conversion: the value, or what was expected. */
export type Converted<T> = { ok: true; value: T } | { ok: false; expected: string };

/** An integer such as `12`, `-1` or `+3`. */
export function toInt(text: string): Converted<number> {
  const t = unquote(text);
  return /^[+-]?\d+$/.test(t) && Number.isSafeInteger(Number(t))
    ? { ok: true, value: Number(t) }
    : { ok: false, expected: "an integer" };
}

/** A finite number such as `0.01`, `1e-5` or `3`. */
export function toFloat(text: string): Converted<number> {
  const t = unquote(text);
  const v = Number(t);
  return t !== "" && Number.isFinite(v) ? { ok: true, value: v } : { ok: false, expected: "a number" };
}

/** NiftyNet's `str2boolean`. */
export function toBool(text: string): Converted<boolean> {
  const t = unquote(text).toLowerCase();
  if (["yes", "true", "t", "y", "1"].includes(t)) return { ok: true, value: true };
  if (["no", "false", "f", "n", "0"].includes(t)) return { ok: true, value: false };
  return { ok: false, expected: "a boolean (true/false, yes/no, 1/0)" };
}

/** A comma-separated list of integers. */
export function toIntList(text: string): Converted<number[]> {
  const out: number[] = [];
  for (const item of splitList(text)) {
    const v = toInt(item);
    if (!v.ok) return { ok: false, expected: "a comma-separated list of integers" };
    out.push(v.value);
  }
  return { ok: true, value: out };
}

/** A comma-separated list of numbers. */
export function toFloatList(text: string): Converted<number[]> {
  const out: number[] = [];
  for (const item of splitList(text)) {
    const v = toFloat(item);
    if (!v.ok) return { ok: false, expected: "a comma-separated list of numbers" };
    out.push(v.value);
  }
  return { ok: true, value: out };
}
