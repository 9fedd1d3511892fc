/**
 * HTML escaping for the report, small enough to audit: every value interpolated into the `html`
 * template is escaped unless it is already `SafeHtml` (made by `html` itself, or by `trustedHtml`
 * for markup a library produced — the charts' SVG, whose text Vega escapes). Forgetting to escape
 * is then impossible by construction: a plain string can only ever enter as text.
 *
 * The five characters cover text and double- or single-quoted attribute values (OWASP's rule
 * #1 and #2 for the contexts this report uses); the report never interpolates into URLs, scripts
 * or style blocks.
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Markup that is safe to insert as is. Only `html` and `trustedHtml` make one. */
export class SafeHtml {
  private constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
  /** @internal */
  static of(value: string): SafeHtml {
    return new SafeHtml(value);
  }
}

/** A value the template accepts: text (escaped), numbers, markup, nothing, or lists of them. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are markup, every `${value}` is escaped (lists joined). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (const [i, value] of values.entries()) out += render(value) + strings[i + 1]!;
  return SafeHtml.of(out);
}

/** Markup made by a library that escapes its own text (Vega's SVG renderer): inserted as is. */
export function trustedHtml(markup: string): SafeHtml {
  return SafeHtml.of(markup);
}
