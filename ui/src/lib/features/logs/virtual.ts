// The arithmetic of a list that renders only the rows in view: which rows a scroll
// position shows (with a few more either side, so a fast scroll finds them drawn), where
// the bottom is, and where to scroll so a row is in view. Every row has the same height.

export interface RowWindow {
  /** The first row to render and the one after the last. */
  start: number;
  end: number;
  /** How far down the first rendered row sits, in pixels. */
  offset: number;
  /** The height of every row together: the scrollable height. */
  total: number;
}

/** Rows drawn beyond the viewport on either side. */
export const OVERSCAN = 8;

/** The rows to render at `scrollTop` in a viewport `height` pixels high. */
export function rowWindow(scrollTop: number, height: number, rowHeight: number, count: number, overscan = OVERSCAN): RowWindow {
  const total = count * rowHeight;
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, total - height));
  const first = Math.floor(top / rowHeight);
  const inView = Math.ceil(Math.max(0, height) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + inView + overscan);
  return { start, end: Math.max(start, end), offset: start * rowHeight, total };
}

/** The scroll position that shows the last row at the bottom. */
export function bottomScrollTop(count: number, rowHeight: number, height: number): number {
  return Math.max(0, count * rowHeight - height);
}

/** Whether the viewport shows the end of the list (within half a row, as scroll positions are fractional). */
export function isAtBottom(scrollTop: number, height: number, count: number, rowHeight: number): boolean {
  return scrollTop + height >= count * rowHeight - rowHeight / 2;
}

/** The scroll position that brings row `index` fully into view, moving as little as possible. */
export function scrollTopToShow(index: number, scrollTop: number, height: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return Math.max(0, top + rowHeight - height);
  return scrollTop;
}

/** How many rows a page of the viewport holds (at least one), for Page Up and Page Down. */
export function rowsPerPage(height: number, rowHeight: number): number {
  return Math.max(1, Math.floor(height / rowHeight) - 1);
}
