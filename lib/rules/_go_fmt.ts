/**
 * Go's `fmt` for the values a Prometheus template handles: float64 (a JS
 * `number`), int (a JS `bigint`), string, bool, `map[string]string` (a JS
 * `Map`), structs and nil. Floats are formatted from their exact decimal
 * expansion with Go's round-half-even, so `%.2f`, `%.4g` and `%v` match Go
 * digit for digit.
 *
 * @module
 */

/** A Go struct value: printed as `{field1 field2}`. */
export class GoStruct {
  /** Create a struct of the given Go type name and fields (in declaration order). */
  constructor(readonly typeName: string, readonly fields: Record<string, GoValue>) {}
}

/** A Go string of a named type (e.g. `template.HTML` from `safeHtml`). */
export class GoNamedString {
  /** Wrap `value` as a string of type `typeName`. */
  constructor(readonly typeName: string, readonly value: string) {}
}

/** A Go `time.Time` (as returned by `toTime`), held as epoch milliseconds plus extra nanoseconds. */
export class GoTime {
  /** Create a time from epoch milliseconds and the nanoseconds below the millisecond. */
  constructor(readonly ms: bigint, readonly nsRemainder = 0n) {}
}

/** A Go value as the template engine holds it; `undefined` is Go's invalid value (`<no value>`). */
export type GoValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | Map<string, GoValue>
  | GoValue[]
  | GoStruct
  | GoNamedString
  | GoTime;

/** Go's type name of a value, as `%T` and error messages print it. */
export function goTypeName(value: GoValue): string {
  if (value === undefined || value === null) return "<nil>";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "float64";
  if (typeof value === "bigint") return "int";
  if (typeof value === "boolean") return "bool";
  if (value instanceof Map) return "map[string]string";
  if (Array.isArray(value)) return "[]interface {}";
  if (value instanceof GoStruct) return value.typeName;
  if (value instanceof GoNamedString) return value.typeName;
  return "time.Time";
}

// ---------------------------------------------------------------- decimal digits

interface Digits {
  /** Significant digits, no leading or trailing zeros; "" for zero. */
  d: string;
  /** Position of the decimal point: value = 0.d × 10^dp. */
  dp: number;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The exact decimal expansion of a finite non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  F64[0] = x;
  const bits = U64[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trimDigits({ d: digits, dp });
}

function trimDigits(digits: Digits): Digits {
  let d = digits.d;
  let dp = digits.dp;
  let start = 0;
  while (start < d.length && d[start] === "0") start++;
  d = d.slice(start);
  dp -= start;
  d = d.replace(/0+$/, "");
  if (d === "") dp = 0;
  return { d, dp };
}

/** Shortest digits that read back as `x` (Go's and JS's shortest agree). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: "", dp: 0 };
  const [mantissa, exponent] = x.toExponential().split("e");
  return trimDigits({ d: mantissa.replace(".", ""), dp: Number(exponent) + 1 });
}

/** Round to `nd` significant digits, half to even on exact ties (Go's decimal rounding). */
function roundDigits(digits: Digits, nd: number): Digits {
  const { d, dp } = digits;
  if (nd < 0 || d.length <= nd) return digits;
  const next = d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < d.length) up = true; // trailing digits are non-zero (trimmed)
  else up = nd > 0 && (d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimDigits({ d: d.slice(0, nd), dp });
  const chars = d.slice(0, nd).split("");
  let i = nd - 1;
  while (i >= 0 && chars[i] === "9") {
    chars[i] = "0";
    i--;
  }
  if (i < 0) return { d: "1", dp: dp + 1 };
  chars[i] = String.fromCharCode(chars[i].charCodeAt(0) + 1);
  return trimDigits({ d: chars.join(""), dp });
}

function fmtE(digs: Digits, prec: number, upper: boolean): string {
  let out = digs.d.length === 0 ? "0" : digs.d[0];
  if (prec > 0) {
    out += ".";
    const rest = digs.d.slice(1, 1 + prec);
    out += rest + "0".repeat(prec - rest.length);
  }
  const exp = digs.d.length === 0 ? 0 : digs.dp - 1;
  const sign = exp < 0 ? "-" : "+";
  const abs = Math.abs(exp);
  return `${out}${upper ? "E" : "e"}${sign}${abs < 10 ? "0" : ""}${abs}`;
}

function fmtF(digs: Digits, prec: number): string {
  let out: string;
  if (digs.dp > 0) {
    const whole = digs.d.slice(0, digs.dp);
    out = whole + "0".repeat(digs.dp - whole.length);
  } else out = "0";
  if (prec > 0) {
    out += ".";
    for (let i = 1; i <= prec; i++) {
      const j = digs.dp + i - 1;
      out += j >= 0 && j < digs.d.length ? digs.d[j] : "0";
    }
  }
  return out;
}

/**
 * Go's `strconv.FormatFloat(x, verb, prec, 64)` for verbs `e E f F g G`
 * (`prec` −1 = shortest). Infinities are `+Inf`/`-Inf`, NaN is `NaN`.
 */
export function formatFloat(x: number, verb: string, prec: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const sign = neg ? "-" : "";
  const shortest = prec < 0;
  const lower = verb.toLowerCase();
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(abs);
  } else {
    const exact = exactDigits(abs);
    if (lower === "e") digs = roundDigits(exact, prec + 1);
    else if (lower === "f") digs = roundDigits(exact, exact.dp + prec);
    else digs = roundDigits(exact, prec === 0 ? 1 : prec);
    if (lower === "f" && exact.dp + prec < 0) digs = { d: "", dp: 0 };
  }
  if (lower === "e") {
    return sign + fmtE(digs, shortest ? Math.max(digs.d.length - 1, 0) : prec, verb === "E");
  }
  if (lower === "f") {
    return sign + fmtF(digs, shortest ? Math.max(digs.d.length - digs.dp, 0) : prec);
  }
  // %g
  let p = shortest ? digs.d.length : (prec === 0 ? 1 : prec);
  let eprec = p;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (p > digs.d.length) p = digs.d.length;
    return sign + fmtE(digs, p - 1, verb === "G");
  }
  if (p > digs.dp) p = digs.d.length;
  return sign + fmtF(digs, Math.max(p - digs.dp, 0));
}

/** Go's `%x` of a float64 (`strconv.FormatFloat(x, 'x', prec, 64)`). */
function formatHexFloat(x: number, prec: number, upper: boolean): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  F64[0] = Math.abs(x);
  const bits = U64[0];
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  if (exp === 0 && mant === 0n) exp = 0;
  else if (exp === 0) {
    exp = -1022;
    while ((mant & (1n << 52n)) === 0n) {
      mant <<= 1n;
      exp--;
    }
    mant &= 0xfffffffffffffn;
  } else exp -= 1023;
  const isZero = Math.abs(x) === 0;
  if (isZero) exp = 0;
  // 52 fraction bits = 13 hex digits
  let frac = mant.toString(16).padStart(13, "0");
  let lead = isZero ? 0n : 1n;
  if (prec >= 0 && prec < 13) {
    const shift = BigInt((13 - prec) * 4);
    const full = (lead << 52n) | mant;
    const half = 1n << (shift - 1n);
    let kept = full >> shift;
    const rem = full & ((1n << shift) - 1n);
    if (rem > half || (rem === half && (kept & 1n) === 1n)) kept++;
    if (kept >> BigInt(prec * 4) >= 2n) {
      kept >>= 1n;
      exp++;
    }
    lead = kept >> BigInt(prec * 4);
    frac = prec === 0
      ? ""
      : (kept & ((1n << BigInt(prec * 4)) - 1n)).toString(16).padStart(prec, "0");
  } else if (prec < 0) frac = frac.replace(/0+$/, "");
  else frac = frac + "0".repeat(prec - 13);
  let out = `0x${lead}${frac === "" ? "" : "." + frac}p${exp < 0 ? "-" : "+"}${
    String(Math.abs(exp)).padStart(2, "0")
  }`;
  if (upper) out = out.toUpperCase();
  return (neg ? "-" : "") + out;
}

// ---------------------------------------------------------------- printing

/** Go's `%v` of a value, as `{{ x }}` and `fmt.Sprint` print it. */
export function formatValue(value: GoValue): string {
  if (value === undefined) return "<no value>";
  if (value === null) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    // Shortest digits without an exponent: JavaScript prints these exactly as Go's %v.
    const a = Math.abs(value);
    if (a >= 1e-4 && a < 1e6) return String(value);
    return formatFloat(value, "g", -1);
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Map) {
    const keys = [...value.keys()].sort(compareStrings);
    return `map[${keys.map((k) => `${k}:${formatValue(value.get(k))}`).join(" ")}]`;
  }
  if (Array.isArray(value)) return `[${value.map(formatValue).join(" ")}]`;
  if (value instanceof GoStruct) {
    return `{${Object.values(value.fields).map(formatValue).join(" ")}}`;
  }
  if (value instanceof GoNamedString) return value.value;
  return formatTime(value);
}

/** Compare strings by UTF-16 code units (Go sorts by bytes; equal for the BMP). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's `time.Time.String()` in UTC: `2024-01-01 00:00:00.5 +0000 UTC`. */
export function formatTime(time: GoTime): string {
  const ms = time.ms;
  let ns = time.nsRemainder;
  let secs = ms / 1000n;
  let msPart = ms % 1000n;
  if (msPart < 0n) {
    msPart += 1000n;
    secs -= 1n;
  }
  ns += msPart * 1_000_000n;
  const date = new Date(Number(secs) * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const year = date.getUTCFullYear();
  let out = `${year < 0 ? "-" + pad(-year, 4) : pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${
    pad(date.getUTCDate())
  } ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  if (ns > 0n) out += "." + ns.toString().padStart(9, "0").replace(/0+$/, "");
  return out + " +0000 UTC";
}

/** Go's `fmt.Sprint`: spaces between operands when neither side is a string. */
export function sprint(args: GoValue[]): string {
  let out = "";
  for (let i = 0; i < args.length; i++) {
    const isString = typeof args[i] === "string" || args[i] instanceof GoNamedString;
    const prevString = i > 0 &&
      (typeof args[i - 1] === "string" || args[i - 1] instanceof GoNamedString);
    if (i > 0 && !isString && !prevString) out += " ";
    out += formatValue(args[i]);
  }
  return out;
}

/** Go's `fmt.Sprintln`: spaces between every operand and a newline at the end. */
export function sprintln(args: GoValue[]): string {
  return args.map(formatValue).join(" ") + "\n";
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function runeLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function pad(text: string, spec: Spec, zeroAllowed = true): string {
  if (spec.width === undefined) return text;
  const missing = spec.width - runeLength(text);
  if (missing <= 0) return text;
  if (spec.minus) return text + " ".repeat(missing);
  if (spec.zero && zeroAllowed) return "0".repeat(missing) + text;
  return " ".repeat(missing) + text;
}

/** Pad a signed number: the zero flag puts zeros after the sign. */
function padNumber(text: string, spec: Spec): string {
  if (spec.width === undefined || !spec.zero || spec.minus) return pad(text, spec);
  const signed = text[0] === "-" || text[0] === "+" || text[0] === " ";
  const missing = spec.width - runeLength(text);
  if (missing <= 0) return text;
  return signed ? text[0] + "0".repeat(missing) + text.slice(1) : "0".repeat(missing) + text;
}

const HEX_DIGITS = "0123456789abcdef";

/** Go's `strconv.Quote`. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (code === 7) out += "\\a";
    else if (code === 8) out += "\\b";
    else if (code === 12) out += "\\f";
    else if (code === 10) out += "\\n";
    else if (code === 13) out += "\\r";
    else if (code === 9) out += "\\t";
    else if (code === 11) out += "\\v";
    else if (code < 0x20 || code === 0x7f) {
      out += "\\x" + HEX_DIGITS[code >> 4] + HEX_DIGITS[code & 15];
    } else if (code >= 0x80 && code < 0xa0) out += "\\u" + code.toString(16).padStart(4, "0");
    else if (code === 0xfffd && ch !== "\ufffd") out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

function formatInt(value: bigint, verb: string, spec: Spec): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  let digits: string;
  let prefix = "";
  switch (verb) {
    case "d":
    case "v":
      digits = abs.toString(10);
      break;
    case "b":
      digits = abs.toString(2);
      if (spec.sharp) prefix = "0b";
      break;
    case "o":
    case "O":
      digits = abs.toString(8);
      if (verb === "O") prefix = "0o";
      else if (spec.sharp) prefix = "0";
      break;
    case "x":
      digits = abs.toString(16);
      if (spec.sharp) prefix = "0x";
      break;
    case "X":
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = "0X";
      break;
    case "c":
      return pad(String.fromCodePoint(Number(value)), spec);
    case "q":
      return pad(`'${String.fromCodePoint(Number(value))}'`, spec);
    case "U":
      return pad("U+" + abs.toString(16).toUpperCase().padStart(4, "0"), spec);
    default:
      return badVerb(verb, value);
  }
  if (spec.prec !== undefined) {
    digits = spec.prec === 0 && abs === 0n ? "" : digits.padStart(spec.prec, "0");
  }
  const sign = neg ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  if (spec.zero && !spec.minus && spec.prec === undefined && spec.width !== undefined) {
    const missing = spec.width - sign.length - prefix.length - digits.length;
    if (missing > 0) digits = "0".repeat(missing) + digits;
    return sign + prefix + digits;
  }
  return pad(sign + prefix + digits, spec, false);
}

function formatFloatVerb(value: number, verb: string, spec: Spec): string {
  let text: string;
  switch (verb) {
    case "v":
    case "g":
    case "G":
      text = formatFloat(value, verb === "v" ? "g" : verb, spec.prec ?? -1);
      break;
    case "e":
    case "E":
    case "f":
    case "F":
      text = formatFloat(value, verb === "F" ? "f" : verb, spec.prec ?? 6);
      break;
    case "x":
    case "X":
      text = formatHexFloat(value, spec.prec ?? -1, verb === "X");
      break;
    default:
      return badVerb(verb, value);
  }
  let num = text[0] === "-" || text[0] === "+" ? text : "+" + text;
  if (spec.space && num[0] === "+" && !spec.plus) num = " " + num.slice(1);
  if (num[1] === "I" || num[1] === "N") {
    if (num[1] === "N" && !spec.space && !spec.plus) num = num.slice(1);
    return pad(num, spec, false);
  }
  if (spec.plus || num[0] !== "+") return padNumber(num, spec);
  return padNumber(num.slice(1), spec);
}

function formatString(value: string, verb: string, spec: Spec): string {
  switch (verb) {
    case "v":
    case "s": {
      let text = value;
      if (spec.prec !== undefined) text = [...text].slice(0, spec.prec).join("");
      return pad(text, spec);
    }
    case "q":
      if (spec.sharp && !hasControl(value, true)) {
        return pad("`" + value + "`", spec);
      }
      return pad(goQuote(value), spec);
    case "x":
    case "X": {
      const bytes = new TextEncoder().encode(value);
      const parts = [...bytes].map((b) => b.toString(16).padStart(2, "0"));
      let text = spec.space
        ? parts.map((p) => (spec.sharp ? "0x" : "") + p).join(" ")
        : (spec.sharp && parts.length ? "0x" : "") + parts.join("");
      if (verb === "X") text = text.toUpperCase();
      return pad(text, spec);
    }
    default:
      return badVerb(verb, value);
  }
}

/** Whether `text` has a character that Go's `strconv.CanBackquote` refuses. */
export function hasControl(text: string, replacement = false): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "`" || code === 0x7f || (code < 0x20 && code !== 9)) return true;
    if (replacement && code === 0xfffd) return true;
  }
  return false;
}

function badVerb(verb: string, value: GoValue): string {
  if (value === null || value === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(value)}=${formatValue(value)})`;
}

function formatArg(value: GoValue, verb: string, spec: Spec): string {
  if (verb === "T") return pad(goTypeName(value), spec);
  if (value === null || value === undefined) {
    return verb === "v" ? pad("<nil>", spec) : badVerb(verb, value);
  }
  if (typeof value === "boolean") {
    return verb === "t" || verb === "v" ? pad(String(value), spec) : badVerb(verb, value);
  }
  if (typeof value === "bigint") return formatInt(value, verb, spec);
  if (typeof value === "number") return formatFloatVerb(value, verb, spec);
  if (typeof value === "string") return formatString(value, verb, spec);
  if (value instanceof GoNamedString) return formatString(value.value, verb, spec);
  if (value instanceof Map) {
    const keys = [...value.keys()].sort(compareStrings);
    return `map[${
      keys.map((k) => `${formatArg(k, verb, spec)}:${formatArg(value.get(k), verb, spec)}`).join(
        " ",
      )
    }]`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => formatArg(v, verb, spec)).join(" ")}]`;
  if (value instanceof GoStruct) {
    return `{${Object.values(value.fields).map((v) => formatArg(v, verb, spec)).join(" ")}}`;
  }
  return verb === "v" || verb === "s" ? pad(formatTime(value), spec) : badVerb(verb, value);
}

/** Go's `fmt.Sprintf` for the verbs templates use (`%s %d %f %e %g %x %q %v %t %c %%`, flags, widths). */
export function sprintf(format: string, args: GoValue[]): string {
  let out = "";
  let argIndex = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf("%", i);
    if (percent === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    const spec: Spec = {
      minus: false,
      plus: false,
      sharp: false,
      space: false,
      zero: false,
      width: undefined,
      prec: undefined,
    };
    flags: while (i < format.length) {
      switch (format[i]) {
        case "-":
          spec.minus = true;
          spec.zero = false;
          break;
        case "+":
          spec.plus = true;
          break;
        case "#":
          spec.sharp = true;
          break;
        case " ":
          spec.space = true;
          break;
        case "0":
          spec.zero = !spec.minus;
          break;
        default:
          break flags;
      }
      i++;
    }
    const number = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const arg = args[argIndex++];
        return typeof arg === "bigint" ? Number(arg) : undefined;
      }
      const start = i;
      while (i < format.length && format[i] >= "0" && format[i] <= "9") i++;
      return i > start ? Number(format.slice(start, i)) : undefined;
    };
    spec.width = number();
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === ".") {
      i++;
      spec.prec = number() ?? 0;
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argIndex++], verb, spec);
  }
  if (argIndex < args.length) {
    out += "%!(EXTRA " +
      args.slice(argIndex).map((a) =>
        a === null || a === undefined ? "<nil>" : `${goTypeName(a)}=${formatValue(a)}`
      ).join(", ") + ")";
  }
  return out;
}
