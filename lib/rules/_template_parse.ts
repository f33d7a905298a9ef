/**
 * Lexer and parser for Go's text/template, following `text/template/parse`
 * (Go 1.19/1.20, as Prometheus 2.42 ships it): the same tokens, the same
 * variable scoping at parse time, and the same error texts where Prometheus
 * rule files can hit them.
 *
 * @module
 */

/** A parse failure: Go's message and the byte offset of the offending token in the full text. */
export class ParseFailure extends Error {
  /** Create a failure at offset `pos`. */
  constructor(readonly detail: string, readonly pos: number) {
    super(detail);
  }
}

// ---------------------------------------------------------------- AST

/** A field chain on dot: `.Labels.instance`. */
export interface FieldNode {
  type: "field";
  pos: number;
  idents: string[];
}
/** A variable with an optional field chain: `$labels.instance`, `$`. */
export interface VariableNode {
  type: "variable";
  pos: number;
  idents: string[];
}
/** A function name. */
export interface IdentifierNode {
  type: "identifier";
  pos: number;
  name: string;
}
/** `.` */
export interface DotNode {
  type: "dot";
  pos: number;
}
/** `nil` */
export interface NilNode {
  type: "nil";
  pos: number;
}
/** `true` / `false` */
export interface BoolNode {
  type: "bool";
  pos: number;
  value: boolean;
}
/** A number or character constant. */
export interface NumberNode {
  type: "number";
  pos: number;
  text: string;
  isInt: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
}
/** A quoted or raw string; `quoted` is the source text. */
export interface StringNode {
  type: "string";
  pos: number;
  quoted: string;
  value: string;
}
/** A term followed by fields: `(pipeline).Field`. */
export interface ChainNode {
  type: "chain";
  pos: number;
  node: ArgNode;
  fields: string[];
}
/** A pipeline: optional declarations, then commands joined by `|`. */
export interface PipeNode {
  type: "pipe";
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
/** One stage of a pipeline: operands separated by spaces. */
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}
/** An operand. */
export type ArgNode =
  | FieldNode
  | VariableNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | ChainNode
  | PipeNode;

/** Literal text. */
export interface TextNode {
  type: "text";
  pos: number;
  text: string;
}
/** `{{ pipeline }}` */
export interface ActionNode {
  type: "action";
  pos: number;
  pipe: PipeNode;
}
/** `{{ if }}`, `{{ with }}`, `{{ range }}` */
export interface BranchNode {
  type: "if" | "with" | "range";
  pos: number;
  pipe: PipeNode;
  list: TemplateNode[];
  elseList: TemplateNode[] | undefined;
}
/** `{{ break }}` / `{{ continue }}` inside range. */
export interface LoopControlNode {
  type: "break" | "continue";
  pos: number;
}
/** A node of a template's body. */
export type TemplateNode = TextNode | ActionNode | BranchNode | LoopControlNode;

// ---------------------------------------------------------------- node printing (Go's Node.String)

/** Go's `Node.String()` of an operand, command or pipeline (used in execution errors). */
export function nodeString(node: ArgNode | CommandNode): string {
  switch (node.type) {
    case "field":
      return node.idents.map((i) => "." + i).join("");
    case "variable":
      return node.idents.join(".");
    case "identifier":
      return node.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(node.value);
    case "number":
      return node.text;
    case "string":
      return node.quoted;
    case "chain": {
      const inner = node.node.type === "pipe"
        ? `(${nodeString(node.node)})`
        : nodeString(node.node);
      return inner + node.fields.map((f) => "." + f).join("");
    }
    case "command":
      return node.args.map((a) => a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a)).join(
        " ",
      );
    case "pipe": {
      let out = "";
      if (node.decl.length > 0) out = node.decl.map(nodeString).join(", ") + " := ";
      return out + node.cmds.map(nodeString).join(" | ");
    }
  }
}

// ---------------------------------------------------------------- lexer

type TokenType =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "space"
  | "identifier"
  | "keyword"
  | "field"
  | "variable"
  | "dot"
  | "string"
  | "rawString"
  | "char"
  | "number"
  | "bool"
  | "nil"
  | "pipe"
  | "declare"
  | "assign"
  | "leftParen"
  | "rightParen"
  | "asciiChar"
  | "eof";

interface Token {
  type: TokenType;
  val: string;
  pos: number;
}

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "template",
  "define",
  "block",
  "break",
  "continue",
]);

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

/**
 * The index of the quote closing the `"…"` or `'…'` literal that opens at
 * `pos` (backslash escapes skipped); a newline or the end first is Go's
 * "unterminated <what>".
 */
function quotedEnd(input: string, pos: number, what: string): number {
  const quote = input[pos];
  let end = pos + 1;
  for (;;) {
    if (end >= input.length || input[end] === "\n") {
      throw new ParseFailure(`unterminated ${what}`, pos);
    }
    if (input[end] === "\\") end += 2;
    else if (input[end] === quote) return end;
    else end++;
  }
}

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < input.length) {
    let open = input.indexOf("{{", pos);
    if (open === -1) open = input.length;
    let textEnd = open;
    let trimLeft = false;
    if (open < input.length && input[open + 2] === "-" && isSpace(input[open + 3])) {
      trimLeft = true;
      while (textEnd > pos && isSpace(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > pos) tokens.push({ type: "text", val: input.slice(pos, textEnd), pos });
    if (open >= input.length) break;
    pos = open + 2 + (trimLeft ? 2 : 0);
    // comment
    if (input.startsWith("/*", pos)) {
      const end = input.indexOf("*/", pos + 2);
      if (end === -1) throw new ParseFailure("unclosed comment", open);
      let after = end + 2;
      let trimRight = false;
      if (input[after] !== undefined && isSpace(input[after]) && input[after + 1] === "-") {
        trimRight = true;
        after += 2;
      }
      if (!input.startsWith("}}", after)) {
        throw new ParseFailure("comment ends before closing delimiter", open);
      }
      pos = after + 2;
      if (trimRight) { while (pos < input.length && isSpace(input[pos])) pos++; }
      continue;
    }
    tokens.push({ type: "leftDelim", val: "{{", pos: open });
    pos = lexAction(input, pos, tokens, open);
  }
  tokens.push({ type: "eof", val: "", pos: input.length });
  return tokens;
}

/** Lex inside `{{ }}` from `pos`; returns the offset after the right delimiter (and any trimmed space). */
function lexAction(input: string, start: number, tokens: Token[], open: number): number {
  let pos = start;
  let parenDepth = 0;
  for (;;) {
    if (pos >= input.length) throw new ParseFailure("unclosed action", open);
    const c = input[pos];
    if (isSpace(c)) {
      let end = pos;
      while (end < input.length && isSpace(input[end])) end++;
      if (input.startsWith("-}}", end)) {
        if (parenDepth > 0) throw new ParseFailure("unclosed left paren", end);
        tokens.push({ type: "rightDelim", val: "}}", pos: end });
        pos = end + 3;
        while (pos < input.length && isSpace(input[pos])) pos++;
        return pos;
      }
      tokens.push({ type: "space", val: input.slice(pos, end), pos });
      pos = end;
      continue;
    }
    if (input.startsWith("}}", pos)) {
      if (parenDepth > 0) throw new ParseFailure("unclosed left paren", pos);
      tokens.push({ type: "rightDelim", val: "}}", pos });
      return pos + 2;
    }
    if (c === "=") {
      tokens.push({ type: "assign", val: "=", pos });
      pos++;
    } else if (c === ":") {
      if (input[pos + 1] !== "=") throw new ParseFailure("expected :=", pos);
      tokens.push({ type: "declare", val: ":=", pos });
      pos += 2;
    } else if (c === "|") {
      tokens.push({ type: "pipe", val: "|", pos });
      pos++;
    } else if (c === '"') {
      const end = quotedEnd(input, pos, "quoted string");
      tokens.push({ type: "string", val: input.slice(pos, end + 1), pos });
      pos = end + 1;
    } else if (c === "`") {
      const end = input.indexOf("`", pos + 1);
      if (end === -1) throw new ParseFailure("unterminated raw quoted string", pos);
      tokens.push({ type: "rawString", val: input.slice(pos, end + 1), pos });
      pos = end + 1;
    } else if (c === "'") {
      const end = quotedEnd(input, pos, "character constant");
      tokens.push({ type: "char", val: input.slice(pos, end + 1), pos });
      pos = end + 1;
    } else if (c === "$") {
      let end = pos + 1;
      while (isAlnum(input[end])) end++;
      tokens.push({ type: "variable", val: input.slice(pos, end), pos });
      pos = end;
    } else if (c === ".") {
      if (input[pos + 1] !== undefined && /[0-9]/.test(input[pos + 1])) {
        pos = lexNumber(input, pos, tokens);
        continue;
      }
      let end = pos + 1;
      while (isAlnum(input[end])) end++;
      if (end === pos + 1) tokens.push({ type: "dot", val: ".", pos });
      else tokens.push({ type: "field", val: input.slice(pos, end), pos });
      pos = end;
    } else if (c === "+" || c === "-" || /[0-9]/.test(c)) {
      if ((c === "+" || c === "-") && !/[0-9.]/.test(input[pos + 1] ?? "")) {
        throw new ParseFailure(`bad number syntax: "${c}"`, pos);
      }
      pos = lexNumber(input, pos, tokens);
    } else if (isAlnum(c)) {
      let end = pos;
      while (isAlnum(input[end])) end++;
      const word = input.slice(pos, end);
      if (KEYWORDS.has(word)) tokens.push({ type: "keyword", val: word, pos });
      else if (word === "true" || word === "false") tokens.push({ type: "bool", val: word, pos });
      else if (word === "nil") tokens.push({ type: "nil", val: word, pos });
      else tokens.push({ type: "identifier", val: word, pos });
      pos = end;
    } else if (c === "(") {
      parenDepth++;
      tokens.push({ type: "leftParen", val: "(", pos });
      pos++;
    } else if (c === ")") {
      parenDepth--;
      tokens.push({ type: "rightParen", val: ")", pos });
      pos++;
    } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) {
      tokens.push({ type: "asciiChar", val: c, pos });
      pos++;
    } else {
      const code = c.codePointAt(0)!;
      throw new ParseFailure(
        `unrecognized character in action: U+${
          code.toString(16).toUpperCase().padStart(4, "0")
        } '${c}'`,
        pos,
      );
    }
  }
}

function lexNumber(input: string, pos: number, tokens: Token[]): number {
  const match =
    /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bBoO][0-9_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?/
      .exec(input.slice(pos))!;
  const end = pos + match[0].length;
  if (isAlnum(input[end]) || input[end] === ".") {
    let bad = end;
    while (isAlnum(input[bad]) || input[bad] === ".") bad++;
    throw new ParseFailure(`bad number syntax: "${input.slice(pos, bad)}"`, pos);
  }
  tokens.push({ type: "number", val: match[0], pos });
  return end;
}

// ---------------------------------------------------------------- parser

/** Go's `strconv.Unquote` for double-quoted strings, raw strings and character constants. */
export function unquote(quoted: string): string {
  if (quoted[0] === "`") return quoted.slice(1, -1).replaceAll("\r", "");
  const body = quoted.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      if (c === quoted[0]) throw new Error("invalid syntax");
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\\": "\\",
    };
    if (e in simple) out += simple[e];
    else if (e === quoted[0]) out += e;
    else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new Error("invalid syntax");
      out += e === "x"
        ? String.fromCharCode(parseInt(hex, 16))
        : String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error("invalid syntax");
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else throw new Error("invalid syntax");
  }
  if (quoted[0] === "'" && [...out].length !== 1) throw new Error("invalid syntax");
  return out;
}

function newNumber(pos: number, text: string, isChar: boolean): NumberNode {
  if (isChar) {
    let rune: string;
    try {
      rune = unquote(text);
    } catch {
      throw new ParseFailure(`malformed character constant: ${text}`, pos);
    }
    const code = BigInt(rune.codePointAt(0)!);
    return {
      type: "number",
      pos,
      text,
      isInt: true,
      isFloat: true,
      int: code,
      float: Number(code),
    };
  }
  if (text.endsWith("i")) throw new ParseFailure(`complex numbers are not supported: ${text}`, pos);
  const clean = text.replaceAll("_", "");
  const intMatch = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(
    clean,
  );
  if (intMatch) {
    let digits = intMatch[2];
    if (/^0[0-7]+$/.test(digits)) digits = "0o" + digits.slice(1);
    let value = BigInt(digits);
    if (intMatch[1] === "-") value = -value;
    return {
      type: "number",
      pos,
      text,
      isInt: true,
      isFloat: true,
      int: value,
      float: Number(value),
    };
  }
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(clean)) {
    const float = Number(clean);
    const isInt = Number.isInteger(float) && Math.abs(float) < 2 ** 63;
    return {
      type: "number",
      pos,
      text,
      isInt,
      isFloat: true,
      int: isInt ? BigInt(float) : 0n,
      float,
    };
  }
  throw new ParseFailure(`illegal number syntax: "${text}"`, pos);
}

/** Parse a template; `hasFunction` decides which identifiers are functions. */
export function parseTemplate(
  input: string,
  hasFunction: (name: string) => boolean,
): TemplateNode[] {
  const tokens = lex(input);
  let i = 0;
  const vars: string[] = ["$"];
  let rangeDepth = 0;

  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const skipSpace = () => {
    while (tokens[i].type === "space") i++;
  };
  const peekNonSpace = () => {
    skipSpace();
    return tokens[i];
  };
  const nextNonSpace = () => {
    skipSpace();
    return tokens[i++];
  };
  const describe = (t: Token): string => {
    switch (t.type) {
      case "eof":
        return "EOF";
      case "rightDelim":
        return `"}}"`;
      case "keyword":
        return `<${t.val}>`;
      case "space":
        return "space";
      default:
        return t.val.length > 10 ? `"${t.val.slice(0, 10)}"...` : `"${t.val}"`;
    }
  };
  const unexpected = (t: Token, context: string): never => {
    if (t.type === "eof") throw new ParseFailure(`unexpected EOF`, t.pos);
    throw new ParseFailure(`unexpected ${describe(t)} in ${context}`, t.pos);
  };
  const expect = (type: TokenType, context: string): Token => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };
  const useVar = (pos: number, name: string): VariableNode => {
    const idents = name.split(".");
    if (!vars.includes(idents[0])) throw new ParseFailure(`undefined variable "${idents[0]}"`, pos);
    return { type: "variable", pos, idents };
  };

  const term = (): ArgNode | undefined => {
    const t = nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!hasFunction(t.val)) throw new ParseFailure(`function "${t.val}" not defined`, t.pos);
        return { type: "identifier", pos: t.pos, name: t.val };
      case "dot":
        return { type: "dot", pos: t.pos };
      case "nil":
        return { type: "nil", pos: t.pos };
      case "variable":
        return useVar(t.pos, t.val);
      case "field":
        return { type: "field", pos: t.pos, idents: [t.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: t.pos, value: t.val === "true" };
      case "number":
      case "char":
        return newNumber(t.pos, t.val, t.type === "char");
      case "leftParen":
        return pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString": {
        let value: string;
        try {
          value = unquote(t.val);
        } catch {
          throw new ParseFailure("invalid syntax", t.pos);
        }
        return { type: "string", pos: t.pos, quoted: t.val, value };
      }
    }
    i--;
    return undefined;
  };

  const operand = (): ArgNode | undefined => {
    const node = term();
    if (node === undefined) return undefined;
    if (peek().type !== "field") return node;
    const fields: string[] = [];
    const chainPos = peek().pos;
    while (peek().type === "field") fields.push(next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos: chainPos, idents: [...node.idents, ...fields] };
      case "variable":
        return { type: "variable", pos: chainPos, idents: [...node.idents, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        throw new ParseFailure(`unexpected . after term "${nodeString(node)}"`, chainPos);
      default:
        return { type: "chain", pos: chainPos, node, fields };
    }
  };

  const command = (): CommandNode => {
    const cmd: CommandNode = { type: "command", pos: peekNonSpace().pos, args: [] };
    for (;;) {
      skipSpace();
      const op = operand();
      if (op !== undefined) cmd.args.push(op);
      const t = next();
      if (t.type === "space") continue;
      if (t.type === "rightDelim" || t.type === "rightParen") i--;
      else if (t.type !== "pipe") unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) throw new ParseFailure("empty command", cmd.pos);
    return cmd;
  };

  const pipeline = (context: string, end: TokenType): PipeNode => {
    const first = peekNonSpace();
    const pipe: PipeNode = { type: "pipe", pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = peekNonSpace();
      if (v.type !== "variable") break;
      const save = i;
      i++;
      const after = peekNonSpace();
      if (after.type === "declare" || after.type === "assign") {
        i++;
        pipe.isAssign = after.type === "assign";
        pipe.decl.push({ type: "variable", pos: v.pos, idents: [v.val] });
        if (!pipe.isAssign) vars.push(v.val);
        break;
      }
      if (after.type === "asciiChar" && after.val === ",") {
        i++;
        pipe.decl.push({ type: "variable", pos: v.pos, idents: [v.val] });
        if (context === "range" && pipe.decl.length < 2) {
          const n = peekNonSpace().type;
          if (n === "variable" || n === "rightDelim" || n === "rightParen") continue;
          throw new ParseFailure("range can only initialize variables", v.pos);
        }
        throw new ParseFailure(`too many declarations in ${context}`, v.pos);
      }
      i = save;
      break;
    }
    // a range's "$i, $e :=" declares both
    if (pipe.decl.length === 2) vars.push(pipe.decl[0].idents[0]);
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) throw new ParseFailure(`missing value for ${context}`, t.pos);
        pipe.cmds.forEach((c, index) => {
          if (index > 0 && ["bool", "dot", "nil", "number", "string"].includes(c.args[0].type)) {
            throw new ParseFailure(`non executable command in pipeline stage ${index + 1}`, c.pos);
          }
        });
        return pipe;
      }
      switch (t.type) {
        case "bool":
        case "char":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          i--;
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  };

  type Stop = { kind: "end" | "else"; pos: number; elseIf?: boolean };

  /** Parse nodes until `{{end}}` or `{{else}}` (inside a control) or EOF (top level). */
  const itemList = (inControl: boolean): [TemplateNode[], Stop | undefined] => {
    const list: TemplateNode[] = [];
    for (;;) {
      const t = next();
      if (t.type === "eof") {
        if (inControl) throw new ParseFailure("unexpected EOF", t.pos);
        return [list, undefined];
      }
      if (t.type === "text") {
        list.push({ type: "text", pos: t.pos, text: t.val });
        continue;
      }
      // leftDelim
      const a = nextNonSpace();
      if (a.type === "keyword") {
        switch (a.val) {
          case "end":
            expect("rightDelim", "end");
            if (!inControl) throw new ParseFailure("unexpected {{end}}", a.pos);
            return [list, { kind: "end", pos: a.pos }];
          case "else": {
            if (!inControl) throw new ParseFailure("unexpected {{else}}", a.pos);
            const after = peekNonSpace();
            if (after.type === "keyword" && after.val === "if") {
              return [list, { kind: "else", pos: a.pos, elseIf: true }];
            }
            expect("rightDelim", "else");
            return [list, { kind: "else", pos: a.pos }];
          }
          case "if":
          case "with":
          case "range":
            list.push(control(a.val, a.pos));
            continue;
          case "break":
          case "continue":
            if (rangeDepth === 0) throw new ParseFailure(`{{${a.val}}} outside {{range}}`, a.pos);
            expect("rightDelim", a.val);
            list.push({ type: a.val, pos: a.pos });
            continue;
          default:
            throw new ParseFailure(`{{${a.val}}} is not supported in rule templates`, a.pos);
        }
      }
      i--;
      const pipe = pipeline("command", "rightDelim");
      list.push({ type: "action", pos: a.pos, pipe });
    }
  };

  const control = (kind: "if" | "with" | "range", pos: number): BranchNode => {
    const mark = vars.length;
    try {
      const pipe = pipeline(kind, "rightDelim");
      if (kind === "range") rangeDepth++;
      let list: TemplateNode[];
      let stop: Stop | undefined;
      try {
        [list, stop] = itemList(true);
      } finally {
        if (kind === "range") rangeDepth--;
      }
      let elseList: TemplateNode[] | undefined;
      if (stop!.kind === "else") {
        if (stop!.elseIf && kind === "if") {
          const ifTok = nextNonSpace();
          // "{{else if ...}}" is "{{else}}{{if ...}}" sharing one {{end}}
          elseList = [control("if", ifTok.pos)];
        } else {
          if (stop!.elseIf) throw new ParseFailure(`unexpected <if> in ${kind}`, stop!.pos);
          let elseStop: Stop | undefined;
          [elseList, elseStop] = itemList(true);
          if (elseStop!.kind !== "end") {
            throw new ParseFailure(`expected end; found {{else}}`, elseStop!.pos);
          }
        }
      }
      return { type: kind, pos, pipe, list, elseList };
    } finally {
      vars.length = mark;
    }
  };

  const [list] = itemList(false);
  return list;
}
