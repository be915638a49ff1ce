// Small DOM helpers of the results webview. Text always goes in through textContent, so values
// from log data are never parsed as HTML.

/** Returns the element with `id`, or throws when the HTML shell lacks it. */
export function requireElement(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) {
    throw new Error(`Quarry results: element #${id} is missing from the page`);
  }
  return element;
}

/** Creates an element of `tag` with a class and text content. */
export function textElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/** Fills `{0}`, `{1}`, … in a label. The result is only ever assigned to textContent. */
export function format(template: string, ...values: string[]): string {
  return template.replace(/\{(\d+)\}/g, (placeholder, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? placeholder : value;
  });
}
