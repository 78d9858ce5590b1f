//! The small functions generated validators call, each emitted once per `protocol.ts` and
//! only when something uses it (a strict `tsconfig` refuses unused declarations).
//!
//! A helper's text and the helpers it calls are declared together here, in the same Rust
//! writer that records which helpers a validator uses, so the two cannot drift apart.
//! Every name starts with `$`, which no protocol name contains.

/// A helper of the generated validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Helper {
    Number,
    Array,
    Object,
    Date,
    Issue,
    At,
    IsObject,
    Get,
    Keys,
    Len,
    Equal,
    Fits,
    Regex,
    Test,
    IsEmail,
    IsUuid,
    IsUrl,
    IsDate,
    IsDateTime,
    NoPayload,
}

impl Helper {
    /// The helpers this one calls.
    pub(crate) fn calls(self) -> &'static [Helper] {
        use Helper::*;
        match self {
            IsObject | Len => &[Array],
            Get | Keys => &[Object],
            Equal => &[Array, Object],
            IsDate => &[Number, Date],
            IsDateTime => &[IsDate, Number],
            Number | Array | Object | Date | Issue | At | Fits | Regex | Test | IsEmail
            | IsUuid | IsUrl | NoPayload => &[],
        }
    }

    /// Whether it is one of the aliases of a built-in (written together, before the
    /// functions).
    pub(crate) fn is_builtin(self) -> bool {
        matches!(
            self,
            Helper::Number | Helper::Array | Helper::Object | Helper::Date
        )
    }

    /// The name it declares.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Helper::Number => "$Number",
            Helper::Array => "$Array",
            Helper::Object => "$Object",
            Helper::Date => "$Date",
            Helper::Issue => "$issue",
            Helper::At => "$at",
            Helper::IsObject => "$isObject",
            Helper::Get => "$get",
            Helper::Keys => "$keys",
            Helper::Len => "$len",
            Helper::Equal => "$equal",
            Helper::Fits => "$fits",
            Helper::Regex => "$regex",
            Helper::Test => "$test",
            Helper::IsEmail => "$isEmail",
            Helper::IsUuid => "$isUuid",
            Helper::IsUrl => "$isUrl",
            Helper::IsDate => "$isDate",
            Helper::IsDateTime => "$isDateTime",
            Helper::NoPayload => "$noPayload",
        }
    }

    /// Its declaration, without a trailing newline.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Helper::Number => "const $Number = globalThis.Number;",
            Helper::Array => "const $Array = globalThis.Array;",
            Helper::Object => "const $Object = globalThis.Object;",
            Helper::Date => "const $Date = globalThis.Date;",
            Helper::Issue => {
                r#"function $issue(issues: $Issue[], path: string, code: string, message: string): void {
  issues.push({ path, code, message });
}"#
            }
            Helper::At => {
                r#"/** Appends a JSON-pointer segment (RFC 6901 escaping). */
function $at(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}"#
            }
            Helper::IsObject => {
                r#"function $isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !$Array.isArray(value);
}"#
            }
            Helper::Get => {
                r#"/** An own property (never one inherited from `Object.prototype`, such as `constructor`). */
function $get(object: Record<string, unknown>, key: string): unknown {
  return $Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}"#
            }
            Helper::Keys => {
                r#"function $keys(object: object): string[] {
  return $Object.keys(object);
}"#
            }
            Helper::Len => {
                r#"/** Length in Unicode scalar values, as Rust and JSON Schema count it. */
function $len(text: string): number {
  return $Array.from(text).length;
}"#
            }
            Helper::Equal => {
                r#"function $equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if ($Array.isArray(a) !== $Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = $Object.keys(left);
  if (keys.length !== $Object.keys(right).length) return false;
  return keys.every((key) => $Object.prototype.hasOwnProperty.call(right, key) && $equal(left[key], right[key]));
}"#
            }
            Helper::Fits => {
                r#"/** Whether a value has a variant's shape (serde would pick it), whatever its constraints say. */
function $fits(issues: readonly $Issue[]): boolean {
  return issues.every((issue) => issue.code !== "invalid" && issue.code !== "required" && issue.code !== "unknown_field");
}"#
            }
            Helper::Regex => {
                r#"/** Compiles a pattern; one this engine cannot compile fails every value, as in Rust. */
function $regex(source: string): RegExp | null {
  try {
    return new globalThis.RegExp(source, "u");
  } catch {
    return null;
  }
}"#
            }
            Helper::Test => {
                r#"function $test(pattern: RegExp | null, text: string): boolean {
  return pattern !== null && pattern.test(text);
}"#
            }
            Helper::IsEmail => {
                r#"/** The server's email rule: one `@`, a non-empty local part, a dotted domain, no spaces. */
function $isEmail(text: string): boolean {
  const at = text.indexOf("@");
  if (at <= 0 || text.includes("@", at + 1) || /\s/u.test(text)) return false;
  const domain = text.slice(at + 1);
  return domain.includes(".") && domain.split(".").every((label) => label.length > 0);
}"#
            }
            Helper::IsUuid => {
                r#"function $isUuid(text: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text);
}"#
            }
            Helper::IsUrl => {
                r#"/** An absolute URL by the WHATWG rules (the server's `url` crate follows them too). */
function $isUrl(text: string): boolean {
  const Url = (globalThis as unknown as { URL?: new (input: string) => unknown }).URL;
  if (Url === undefined) return /^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$/.test(text);
  try {
    new Url(text);
    return true;
  } catch {
    return false;
  }
}"#
            }
            Helper::IsDate => {
                r#"function $isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return false;
  const [year, month, day] = [$Number(m[1]), $Number(m[2]), $Number(m[3])];
  const days = new $Date($Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= days;
}"#
            }
            Helper::IsDateTime => {
                // RFC 3339 as every JSON Schema validator reads it: `T` (not a space, which
                // only some take) and no leap second (which Python's `jsonschema` refuses).
                r#"function $isDateTime(text: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (m === null || !$isDate(m[1] ?? "")) return false;
  return $Number(m[2]) < 24 && $Number(m[3]) < 60 && $Number(m[4]) < 60;
}"#
            }
            Helper::NoPayload => {
                r#"/** The validator of a message without payload. */
function $noPayload(payload: unknown): $Issue[] {
  return payload === undefined ? [] : [{ path: "", code: "invalid", message: "this message carries no payload" }];
}"#
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Helper; 20] = [
        Helper::Number,
        Helper::Array,
        Helper::Object,
        Helper::Date,
        Helper::Issue,
        Helper::At,
        Helper::IsObject,
        Helper::Get,
        Helper::Keys,
        Helper::Len,
        Helper::Equal,
        Helper::Fits,
        Helper::Regex,
        Helper::Test,
        Helper::IsEmail,
        Helper::IsUuid,
        Helper::IsUrl,
        Helper::IsDate,
        Helper::IsDateTime,
        Helper::NoPayload,
    ];

    /// The name a helper's text declares: `$Number` for `const $Number = …`, `$at` for
    /// `function $at(…)`.
    fn declared(helper: Helper) -> String {
        let text = helper.text();
        let start = text.find('$').unwrap_or(0);
        text[start..]
            .chars()
            .take_while(|c| *c == '$' || c.is_ascii_alphanumeric())
            .collect()
    }

    #[test]
    fn every_helper_declares_its_name() {
        for helper in ALL {
            assert_eq!(declared(helper), helper.name());
        }
    }

    #[test]
    fn every_helper_a_text_calls_is_listed_in_its_calls() {
        for helper in ALL {
            let text = helper.text();
            for other in ALL.into_iter().filter(|o| *o != helper) {
                let name = other.name();
                let called = text.match_indices(&name).any(|(i, _)| {
                    !text[i + name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
                });
                assert_eq!(
                    called,
                    helper.calls().contains(&other),
                    "{} and {name}",
                    helper.name()
                );
            }
        }
    }
}
