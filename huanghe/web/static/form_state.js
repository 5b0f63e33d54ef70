/* What a page's redraw must not lose (window.HH, loaded by index.html right after common.js): the keyboard focus
   (HH.keepFocus), what the user typed and has not sent (HH.keepInputs), and the newest of overlapping loads
   (HH.latest). Both keepers put the focus back with one function (focusKeeper); they differ in how they find
   the focused element again in the new draw. */
(function () {
  "use strict";

  const HH = window.HH;
  const FIELDS = "input, select, textarea";

  /* What the user changed, anywhere in the document, from the start (HH.keepInputs keeps these): every field
     that got an 'input' or 'change' event is marked `data-hh-touched`, and numbered (the newest highest). */
  let typed = 0;
  const typedAt = new WeakMap();
  const mark = (ev) => {
    if (!(ev.target instanceof Element) || !ev.target.matches(FIELDS)) return;
    ev.target.dataset.hhTouched = "1";
    typed += 1;
    typedAt.set(ev.target, typed);
  };
  ["input", "change"].forEach((type) => document.addEventListener(type, mark, true));

  /** `fn` after `out`, the result of a redraw: at once, or once a promise settles (then `out`'s value or error). */
  function after(out, fn) {
    if (out && typeof out.then === "function") return out.then((v) => { fn(); return v; }, (err) => { fn(); throw err; });
    fn();
    return out;
  }
  /** The keyboard focus inside `container` before a redraw, and the function that puts it back after it:
      `lookupOf(a)` gives, for the focused element `a`, a function finding its like in the new draw (or null:
      not carried). Put back only when `a` left the container (it was redrawn) and the focus is on nothing (the
      body: lost with `a`) or already on the like (an inner keeper put it back); anywhere else the user moved on.
      A text field's caret and selection come back with it. No focus inside `container`: nothing to do. */
  function focusKeeper(container, lookupOf) {
    const a = document.activeElement;
    if (!a || a === document.body || !container.contains(a)) return () => {};
    const lookup = lookupOf(a);
    let caret = null;
    try { if (a.selectionStart != null) caret = [a.selectionStart, a.selectionEnd]; } catch (err) { /* no caret: number, date */ }
    return () => {
      if (!lookup || container.contains(a)) return;  // not carried, or not redrawn: focus and caret untouched
      const now = document.activeElement, found = lookup();
      if (!found || !container.contains(found) || (now && now !== document.body && now !== found)) return;
      if (now !== found) found.focus();
      try { if (caret) found.setSelectionRange(caret[0], caret[1]); } catch (err) { /* no caret */ }
    };
  }

  /** Run `redraw` (sync or async) inside `container`, keeping the keyboard focus: the element focused there
      before is looked up again after (by its id; else, inside its row of the same `data-id` or the container,
      the element of the same tag, class, name, label and text at the same rank among its likes) and focused
      (see focusKeeper: not when the user moved on meanwhile). A list that refreshes by itself must not throw a
      keyboard user back to the top of the page. */
  HH.keepFocus = function (container, redraw) {
    const restore = focusKeeper(container, (a) => {
      const rowOf = (e) => { const r = e.closest("[data-id]"); return r && container.contains(r) ? r : null; };
      const row = rowOf(a);
      const key = { id: a.id, row: row ? row.dataset.id : null, tag: a.tagName, cls: a.className,
        name: a.getAttribute("name"), label: a.getAttribute("aria-label"), text: a.textContent };
      const likes = () => {
        const scope = key.row == null ? container : [...container.querySelectorAll("[data-id]")].find((r) => r.dataset.id === key.row);
        return scope ? [...scope.querySelectorAll(key.tag)].filter((e) => e.className === key.cls && e.textContent === key.text
          && e.getAttribute("name") === key.name && e.getAttribute("aria-label") === key.label) : [];
      };
      const rank = likes().indexOf(a);
      return () => (key.id && document.getElementById(key.id)) || likes()[rank];
    });
    return after(redraw(), restore);
  };
  /** Keep what the user typed across a redraw: `HH.keepInputs(container, redraw)` runs `redraw()` (best synchronous;
      a promise: restored once it settles), then puts back what the user changed in `container` (a page's element).
      Kept: of each input, select and textarea that got an 'input' or 'change' event since it was drawn (marked
      `data-hh-touched`, from the page's start), the value (checkbox, radio: checked; a multiple select: the chosen
      options); the focus, caret and selection of a keyed field (`data-keep="off"` too; focusKeeper). A restored
      field counts as changed, so it survives later redraws; untouched fields show the new draw's values; a field
      the user changed while an async redraw ran keeps what they typed there. No 'input' or 'change' event is
      fired on restore: a page whose listeners fill or show fields by a field's value re-applies them on the
      'hh-inputs-kept' event, dispatched (bubbling) on `container` once the values are back; a listener that drew
      a select's options anew (for a kept value of another field) then calls `ev.detail.putBack(node)`, which puts
      the kept values back into the fields inside `node` (a value the first draw's options lacked comes back).
      Matched by key: scope + the field's `name`, else `id`, else aria-label (+ `value` for checkboxes and radios);
      scope: the closest `data-keep` value, else the closest form's id or name, + the closest `data-id` (a table
      row's record). Not carried: a key missing from the new draw or not unique in the old one (another form,
      page or record: a per-record form outside a row gets `data-keep="form/recordId"`), a select's value the new
      draw does not offer, file inputs, `data-keep="off"` fields (e.g. filters that are the page's state).
      Forgotten: `HH.keepInputs.forget(node)` drops the marks inside `node` (a form after its successful save,
      before the reload: the form is then drawn afresh); leaving the page does not forget them. */
  HH.keepInputs = function (container, redraw) {
    const kept = new Map(), seen = new Set(), since = typed;
    const keyOf = (e, focus) => {  // focus: the key to find the focused field again, kept or not
      const own = e.getAttribute("name") || e.id || e.getAttribute("aria-label");
      if (!own || e.type === "file" || (e.dataset.keep === "off" && !focus)) return null;
      const s = e.closest("[data-keep]") || e.closest("form"), row = e.closest("[data-id]");
      const scope = (s && container.contains(s) ? s.dataset.keep || s.id || s.getAttribute("name") || "form" : "")
        + (row && container.contains(row) ? `#${row.dataset.id}` : "");
      return `${scope}|${own}${e.type === "checkbox" || e.type === "radio" ? `=${e.value}` : ""}`;
    };
    for (const e of container.querySelectorAll(FIELDS)) {
      const key = keyOf(e), box = e.type === "checkbox" || e.type === "radio";
      if (key == null) continue;
      if (seen.has(key)) kept.set(key, null);  // not unique: carried nowhere
      else if (e.dataset.hhTouched === "1") {
        kept.set(key, box ? { checked: e.checked } : e.multiple ? { picked: [...e.selectedOptions].map((o) => o.value) } : { value: e.value });
      }
      seen.add(key);
    }
    const focus = focusKeeper(container, (a) => {
      const key = a.matches(FIELDS) ? keyOf(a, true) : null;
      return key == null ? null : () => [...container.querySelectorAll(FIELDS)].find((e) => keyOf(e, true) === key);
    });
    /** The kept values back into the fields inside `root` (in `container`). */
    const putBack = (root) => {
      for (const e of root.querySelectorAll(FIELDS)) {
        const v = kept.get(keyOf(e));
        if (!v || (typedAt.get(e) || 0) > since) continue;  // changed meanwhile: the user's newest stays
        if ("checked" in v) e.checked = v.checked;
        else if (v.picked) [...e.options].forEach((o) => { o.selected = v.picked.includes(o.value); });
        else if (e.tagName === "SELECT" && ![...e.options].some((o) => o.value === v.value)) continue;
        else if (e.value !== v.value) e.value = v.value;
        e.dataset.hhTouched = "1";
      }
    };
    return after(redraw(), () => {
      putBack(container);
      focus();
      container.dispatchEvent(new CustomEvent("hh-inputs-kept", { bubbles: true, detail: { putBack } }));
    });
  };
  /** Forget the user's changes inside `node` (see HH.keepInputs): its next redraw shows the fields as drawn. */
  HH.keepInputs.forget = (node) => [node, ...node.querySelectorAll("[data-hh-touched]")].forEach((e) => { delete e.dataset.hhTouched; });
  /** A guard against out-of-order loads: `const fresh = HH.latest();` then, in a page's load, `const mine =
      fresh();` before its first request and `if (!mine()) return;` before it draws. A load that was overtaken by
      a later one (a save's reload started while an earlier refresh still waited for its answers) then draws
      nothing, instead of drawing its older data over the newer. */
  HH.latest = function () {
    let n = 0;
    return () => { n += 1; const mine = n; return () => mine === n; };
  };
})();
