// Sortable leaderboard tables: click a header to sort by that column (numbers by value, "0.61 [0.58, 0.64]" by
// its leading number, "n/a" always last); click again to reverse. Tables opt in by sitting in <div class="ob-sortable">.
(function () {
  "use strict";

  function sortKey(cell) {
    var text = cell.textContent.trim();
    var match = text.match(/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i);
    return match ? { number: parseFloat(match[0]), text: text } : { number: null, text: text.toLowerCase() };
  }

  function compare(a, b, descending) {
    if (a.number === null && b.number !== null) return 1; // text and n/a after numbers, either direction
    if (b.number === null && a.number !== null) return -1;
    var order = a.number !== null ? a.number - b.number : a.text.localeCompare(b.text);
    return descending ? -order : order;
  }

  function sortBy(table, column, header) {
    var descending = header.getAttribute("aria-sort") !== "descending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (x, y) { return compare(sortKey(x.cells[column]), sortKey(y.cells[column]), descending); });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable(root) {
    root.querySelectorAll(".ob-sortable table").forEach(function (table) {
      if (table.dataset.obSortable || !table.tHead || !table.tBodies.length) return;
      table.dataset.obSortable = "1";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
        header.classList.add("ob-sortable-header");
        header.title = "Sort by this column";
        header.addEventListener("click", function () { sortBy(table, column, header); });
      });
    });
  }

  // mkdocs-material swaps pages without reloading (document$); plain pages use DOMContentLoaded.
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { makeSortable(document); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { makeSortable(document); });
  } else {
    makeSortable(document);
  }
})();
