// Small DOM and formatting helpers shared by the console's pages. Text always goes in as
// text nodes, never as HTML: names and model ids come from clients and config.

/**
 * Creates an element. `attrs`: `class`, `text`, `on<event>` handlers, boolean properties
 * (hidden, disabled, required, checked, open, selected), `value`, anything else as an attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = String(value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (['hidden', 'disabled', 'required', 'checked', 'open', 'selected', 'value', 'multiple'].includes(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * A table. `columns`: `{ label, value(row), format?(value, row), numeric?, key? }`; numeric cells
 * are right-aligned and carry their raw number in `data-value`, so tests read exact values.
 */
export function table({ caption, columns, rows, empty = 'Nothing yet.', foot, attrs = {} }) {
  const cell = (column, row, isRowHeader) => {
    const value = column.value(row);
    const shown = column.format ? column.format(value, row) : value;
    return h(
      isRowHeader ? 'th' : 'td',
      {
        scope: isRowHeader ? 'row' : undefined,
        class: column.numeric ? 'num' : undefined,
        'data-col': column.key,
        // Phones show each row as a card: the stylesheet prints this label before the value.
        'data-label': column.label,
        'data-value': column.numeric && typeof value === 'number' ? String(value) : undefined,
      },
      shown instanceof Node ? shown : shown === null || shown === undefined || shown === '' ? '–' : String(shown),
    );
  };
  // The first column names the row, unless it is a number.
  const row = (r) => h('tr', {}, columns.map((c, i) => cell(c, r, i === 0 && !c.numeric)));
  const footer = () => h('tr', {}, columns.map((c, i) => (i === 0 ? h('th', { scope: 'row', text: c.footLabel ?? 'Total' }) : cell(c, foot, false))));
  const body = rows.length === 0 ? h('tr', {}, h('td', { colspan: String(columns.length), class: 'empty', text: empty })) : rows.map(row);
  const tableEl = h(
    'table',
    attrs,
    caption ? h('caption', { text: caption }) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined, text: c.label })))),
    h('tbody', {}, body),
    foot ? h('tfoot', {}, footer()) : null,
  );
  // Wide tables scroll inside their own box instead of widening the page.
  return h('div', { class: 'table-wrap' }, tableEl);
}

/** A labelled form control; `hint` becomes its accessible description. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
}

/** Shows `text` in a status element: `kind` error | ok | info. */
export function say(el, text, kind = 'info') {
  el.textContent = text;
  el.className = `notice ${kind}`;
  el.hidden = !text;
}

// Money has a fixed number of decimals, so amounts line up and compare at a glance: 4 for costs
// and spend (a call costs fractions of a cent), 2 for budgets people set in dollars and cents.
const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 });
const budgetFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const priceFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const fmt = {
  usd: (n) => (n === null || n === undefined ? '–' : n > 0 && n < 0.00005 ? '< $0.0001' : usdFormat.format(n)),
  budget: (n) => (n === null || n === undefined ? '–' : budgetFormat.format(n)),
  /** A list price per 1M tokens, as the price table writes it ($0.075, $2.50). */
  price: (n) => (n === null || n === undefined ? '–' : priceFormat.format(n)),
  int: (n) => (n === null || n === undefined ? '–' : intFormat.format(n)),
  ms: (n) => (n === null || n === undefined ? '–' : `${decFormat.format(n)} ms`),
  pct: (n) => (n === null || n === undefined ? '–' : `${decFormat.format(n * 100)} %`),
  /** ISO time as `2025-01-31 13:05 UTC`. */
  time: (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '–'),
  /** ISO time to the second, for log and audit entries. */
  seconds: (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '–'),
  list: (items) => (items && items.length > 0 ? items.join(', ') : 'all'),
};

/** Today's date in UTC as `YYYY-MM-DD`, shifted by `days`. */
export function utcDate(days = 0) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
