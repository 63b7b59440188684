/**
 * Text an applicant may send (issue 17): well-formed Unicode without control characters, bidi overrides or
 * noncharacters. A lone surrogate cannot be encoded into a URL or a PDF; U+0000 and ESC end up in logs and
 * terminals; U+202E makes a printed name read backwards. Such text is refused at intake, naming the field.
 */

/** Why one code point is refused, or null when it may appear in applicant text. */
export function unprintableReason(cp: number): string | null {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return null;
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return '控制字符 control character';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x061c || cp === 0x200e || cp === 0x200f) {
    return '双向文本控制符 bidi control';
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return '孤立代理项 lone surrogate (ill-formed UTF-16)';
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return '非字符 noncharacter';
  return null;
}

/** The first refused code point of `s`: its index (in UTF-16 units), the code point and why. */
export function findUnprintable(s: string): { index: number; codePoint: number; reason: string } | null {
  for (let i = 0; i < s.length; i += 1) {
    let cp = s.charCodeAt(i);
    // Printable ASCII and most CJK are the common case: skip the checks.
    if (cp >= 0x20 && cp < 0x7f) continue;
    const start = i;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i += 1;
      }
    }
    const reason = unprintableReason(cp);
    if (reason) return { index: start, codePoint: cp, reason };
  }
  return null;
}

/** `U+202E` style. */
export function codePointLabel(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A refused text somewhere in a JSON value: the JSON Pointer of the string (or key) and what is wrong with it. */
export interface TextProblem {
  path: string;
  message: string;
}

/** JSON objects only: a Buffer (a PDF body) or a parsed multipart part is not applicant text. */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JSON Pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(found: { index: number; codePoint: number; reason: string }): string {
  return `含有不可打印或格式错误的字符 ${codePointLabel(found.codePoint)}（${found.reason}），第 ${found.index + 1} 个字符 Contains ${codePointLabel(found.codePoint)} at character ${found.index + 1}: remove it`;
}

/**
 * The first refused string or object key in a parsed JSON value, depth-first, or null. A pointer to a key names
 * the object holding it. Bounded: stops after `maxNodes` values (the body limit bounds them anyway).
 */
export function findInvalidText(value: unknown, at = '', maxNodes = 1_000_000): TextProblem | null {
  const stack: Array<[unknown, string]> = [[value, at]];
  let seen = 0;
  while (stack.length > 0 && seen < maxNodes) {
    const [v, p] = stack.pop()!;
    seen += 1;
    if (typeof v === 'string') {
      const found = findUnprintable(v);
      if (found) return { path: p === '' ? '/' : p, message: describe(found) };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) stack.push([v[i], `${p}/${i}`]);
    } else if (v !== null && typeof v === 'object' && isPlainObject(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [k, child] = entries[i]!;
        const found = findUnprintable(k);
        if (found) return { path: p === '' ? '/' : p, message: `字段名${describe(found)}` };
        stack.push([child, `${p}/${pointerSegment(k)}`]);
      }
    }
  }
  return null;
}
