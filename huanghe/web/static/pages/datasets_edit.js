/* Parts of the Datasets page (pages/datasets.js makes their API calls, through HH.datasets): the form changing
   a dataset after registration (name, data class, temperature, allowed centers; PATCH /api/v1/datasets/{id}:
   only the fields changed are sent, each refusal of the server shown at its field) and the read-only list of
   the tiering (lifecycle) policies that apply to the tenant's data (the province's and its own), in words.
   Idle times and ages are seconds in the API, days here. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "datasets_edit.open": "修改数据集",
      "datasets_edit.title": "修改数据集",
      "datasets_edit.hint": "只提交改动的字段；数据级别与允许存放的中心决定副本可以放在哪里。",
      "datasets_edit.name": "名称",
      "datasets_edit.class": "数据级别",
      "datasets_edit.temperature": "存储温度",
      "datasets_edit.allowed": "允许存放的中心（重要/核心数据）",
      "datasets_edit.save": "保存修改",
      "datasets_edit.cancel": "取消",
      "datasets_edit.lower": "降低数据级别会记入审计并向监管方发出风险预警；仍须每个副本合规，列入重要数据保护目录的数据不能降为一般数据。",
      "datasets_edit.saved": "已保存：{fields}",
      "datasets_edit.unchanged": "没有改动",
      "datasets_edit.failed": "未能保存：{detail}",
      "datasets_edit.policies": "分层存储策略",
      "datasets_edit.policies.hint": "全省统一的策略和本单位自己的策略：长期未读取的副本会自动移到更便宜的存储层。",
      "datasets_edit.policies.empty": "暂无适用的分层存储策略",
      "datasets_edit.col.policy": "策略",
      "datasets_edit.col.scope": "适用范围",
      "datasets_edit.col.rule": "规则",
      "datasets_edit.col.state": "状态",
      "datasets_edit.scope.province": "全省",
      "datasets_edit.scope.tenant": "本单位（{tenant}）",
      "datasets_edit.rule": "{from}存储中连续 {days} 天未读取的副本移到{to}存储",
      "datasets_edit.rule.age": "（且已存放至少 {days} 天）",
      "datasets_edit.on": "生效",
      "datasets_edit.off": "已停用",
    },
    en: {
      "datasets_edit.open": "Edit dataset",
      "datasets_edit.title": "Edit the dataset",
      "datasets_edit.hint": "Only the fields you change are sent; the data class and the allowed centers decide where copies may be.",
      "datasets_edit.name": "Name",
      "datasets_edit.class": "Data class",
      "datasets_edit.temperature": "Temperature",
      "datasets_edit.allowed": "Centers allowed (important/core data)",
      "datasets_edit.save": "Save changes",
      "datasets_edit.cancel": "Cancel",
      "datasets_edit.lower": "Lowering the data class is audited and raises a risk alert for the regulator; every copy must still be lawful, and data in the protection catalog cannot become general.",
      "datasets_edit.saved": "Saved: {fields}",
      "datasets_edit.unchanged": "Nothing changed",
      "datasets_edit.failed": "Not saved: {detail}",
      "datasets_edit.policies": "Tiering policies",
      "datasets_edit.policies.hint": "The province's policies and your organisation's own: copies not read for a long time move to cheaper storage by themselves.",
      "datasets_edit.policies.empty": "No tiering policy applies",
      "datasets_edit.col.policy": "Policy",
      "datasets_edit.col.scope": "Applies to",
      "datasets_edit.col.rule": "Rule",
      "datasets_edit.col.state": "State",
      "datasets_edit.scope.province": "The whole province",
      "datasets_edit.scope.tenant": "Your organisation ({tenant})",
      "datasets_edit.rule": "Copies on {from} storage not read for {days} days move to {to} storage",
      "datasets_edit.rule.age": " (once at least {days} days old)",
      "datasets_edit.on": "in force",
      "datasets_edit.off": "switched off",
    },
  });

  const { t, el } = HH;
  const DAY = 86400;  // seconds
  const TEMPERATURES = ["hot", "warm", "cold"];
  /** The form's state, kept across the page's redraws (a refresh every 3 s while copies move): open or not,
      its node (reused while open, so that what is typed stays), the last message. */
  const E = { id: null, open: false, node: null, status: "" };

  function slotFor(name) {
    return el("small", { className: "field-error", id: `dse-error-${name}`, dataset: { errorFor: name } });
  }
  function field(name, labelKey, input) {
    input.name = name;
    input.setAttribute("aria-describedby", `dse-error-${name}`);
    return el("label", { className: "field" }, t(labelKey), input, slotFor(name));
  }
  function centerOptions(cls, chosen) {
    const D = HH.datasets;
    return (D.st.topo ? D.st.topo.centers : []).filter((c) => (c.allowed_data_classes || []).includes(cls))
      .map((c) => new Option(`${HH.named(c)} (${c.id})`, c.id, false, chosen.includes(c.id)));
  }
  /** Each {path, message} of the answer next to its field (`name`, `body.name`, `allowed_centers[1]` →
      its field); the rest, and a refusal without a field (403, 409), in the box under the form. */
  function showErrors(form, general, err) {
    const rest = [];
    for (const item of (err instanceof HH.ApiError ? err.detail : [])) {
      const name = String(item.path || "").replace(/^body\.?/, "").split(/[.[]/)[0];
      const slot = name && form.querySelector(`[data-error-for="${name}"]`);
      if (slot && !slot.closest("label").hidden) {
        slot.textContent = slot.textContent ? `${slot.textContent}; ${item.message}` : item.message;
        form.elements[name].classList.add("invalid");
        form.elements[name].setAttribute("aria-invalid", "true");
      } else {
        rest.push(item.path ? `${item.path}: ${item.message}` : item.message);
      }
    }
    if (err instanceof HH.ApiError && err.status === 401) return HH.showError(general, err);
    if (rest.length || !(err instanceof HH.ApiError)) {
      const text = err instanceof HH.ApiError ? `HTTP ${err.status}: ${rest.join("; ")}` : String(err.message || err);
      HH.showError(general, new Error(text), "datasets_edit.failed");
    }
  }
  function clearErrors(form, general) {
    form.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; });
    form.querySelectorAll(".invalid").forEach((n) => { n.classList.remove("invalid"); n.removeAttribute("aria-invalid"); });
    general.replaceChildren();
  }

  /** The fields of `ds` that differ from the form's (the body of the PATCH), in the API's names. */
  function changes(form, ds) {
    const body = {};
    const name = form.elements.name.value.trim();
    if (name !== ds.name) body.name = name;
    if (form.elements.data_class.value !== ds.data_class) body.data_class = form.elements.data_class.value;
    if (form.elements.temperature.value !== ds.temperature) body.temperature = form.elements.temperature.value;
    const allowed = form.elements.data_class.value === "general" ? ds.allowed_centers
      : [...form.elements.allowed_centers.selectedOptions].map((o) => o.value);
    if ([...allowed].sort().join() !== [...ds.allowed_centers].sort().join()) body.allowed_centers = allowed;
    return body;
  }

  function buildForm(ds) {
    const D = HH.datasets;
    const name = el("input", { maxLength: 200, autocomplete: "off", required: true, value: ds.name });
    const cls = el("select", {}, D.CLASSES.map((c) => new Option(t(`datasets.class.${c}`), c, false, c === ds.data_class)));
    const temp = el("select", {}, TEMPERATURES.map((x) => new Option(t(`datasets.temp.${x}`), x, false, x === ds.temperature)));
    const allowed = el("select", { multiple: true, size: 4 });
    const allowedField = field("allowed_centers", "datasets_edit.allowed", allowed);
    const lowerNote = el("p", { className: "hint-line wide", id: "dse-lower-note", role: "status", hidden: true }, t("datasets_edit.lower"));
    const fill = () => {
      const chosen = allowed.options.length ? [...allowed.selectedOptions].map((o) => o.value) : ds.allowed_centers;
      allowed.replaceChildren(...centerOptions(cls.value, chosen));
      allowedField.hidden = cls.value === "general";
      lowerNote.hidden = D.CLASSES.indexOf(cls.value) >= D.CLASSES.indexOf(ds.data_class);  // the regulator is told
    };
    cls.addEventListener("change", fill);
    const general = el("div", { id: "dse-error", className: "wide" });
    const save = el("button", { type: "submit", className: "primary" }, t("datasets_edit.save"));
    const cancel = el("button", { type: "button", id: "dse-cancel" }, t("datasets_edit.cancel"));
    const form = el("form", { className: "job-form ds-form", id: "dse-form", noValidate: true },
      field("name", "datasets_edit.name", name), field("data_class", "datasets_edit.class", cls),
      field("temperature", "datasets_edit.temperature", temp), el("div", { className: "wide" }, allowedField),
      lowerNote, el("div", { className: "form-actions wide" }, save, cancel), general);
    fill();
    cancel.addEventListener("click", () => close(""));
    // a field edited since the refusal: its message is stale. On "input" (as one types or picks), not "change":
    // that fires on leaving the field, and the form shrinking then would move the button being clicked
    form.addEventListener("input", (ev) => {
      const input = ev.target;
      const slot = input.name && form.querySelector(`[data-error-for="${input.name}"]`);
      if (slot) slot.textContent = "";
      input.classList.remove("invalid");
      input.removeAttribute("aria-invalid");
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, general);
      const body = changes(form, D.st.ds);
      if (!Object.keys(body).length) return close(t("datasets_edit.unchanged"));
      save.disabled = true;
      try {
        await D.save(body);
      } catch (err) {
        save.disabled = false;
        showErrors(form, general, err);
        return;
      }
      const labels = { name: "datasets_edit.name", data_class: "datasets_edit.class", temperature: "datasets_edit.temperature",
        allowed_centers: "datasets_edit.allowed" };
      close(t("datasets_edit.saved", { fields: Object.keys(body).map((k) => t(labels[k])).join(", ") }));
    });
    return el("div", { className: "panel", id: "dse" }, el("h3", {}, t("datasets_edit.title")),
      el("p", { className: "hint-line" }, t("datasets_edit.hint")), form);
  }
  function close(status) {
    Object.assign(E, { open: false, node: null, status });
    HH.datasets.refresh().catch((err) => HH.showError(HH.datasets.st.slot, err));
  }

  /** The edit block of the dataset shown: a button opening the form (for those who may change it), or the
      open form itself, the same node while it stays open. */
  function editBlock() {
    const D = HH.datasets;
    if (!HH.can("PATCH /api/v1/datasets/{item_id}") || !D.st.ds) return null;
    if (E.id !== D.st.id) Object.assign(E, { id: D.st.id, open: false, node: null, status: "" });
    if (E.open) {
      E.node = E.node || buildForm(D.st.ds);
      return E.node;
    }
    const open = el("button", { type: "button", id: "dse-open" }, t("datasets_edit.open"));
    const block = el("div", { id: "dse", className: "form-actions" }, open,
      E.status ? el("span", { className: "ok-line", role: "status", id: "dse-status" }, E.status) : null);
    open.addEventListener("click", () => {
      Object.assign(E, { open: true, node: null, status: "" });
      const form = editBlock();
      block.replaceWith(form);
      form.querySelector("input").focus();
    });
    return block;
  }

  // ---- tiering policies ------------------------------------------------------------------------------------
  const days = (s) => HH.fmt(s / DAY, s % DAY ? 1 : 0);
  /** What policy `p` does, in words (tiers by name, idle time and minimum age in days). */
  function ruleText(p) {
    const words = t("datasets_edit.rule", { from: t(`datasets.temp.${p.from_temperature}`), to: t(`datasets.temp.${p.to_temperature}`),
      days: days(p.idle_s) });
    return p.min_age_s > 0 ? words + t("datasets_edit.rule.age", { days: days(p.min_age_s) }) : words;
  }
  /** The policies that apply to the caller's data (a page of GET /api/v1/lifecycle-policies), read only. */
  function policyBlock(page) {
    if (!page) return null;
    const rows = page.items.map((p) => [{ text: p.id, className: "mono" },
      p.tenant ? t("datasets_edit.scope.tenant", { tenant: p.tenant }) : t("datasets_edit.scope.province"),
      { text: ruleText(p), className: "wrap" },
      el("span", { className: "state", dataset: { enabled: String(p.enabled) } }, t(p.enabled ? "datasets_edit.on" : "datasets_edit.off"))]);
    return el("div", { id: "dse-policies" }, el("h3", {}, t("datasets_edit.policies")),
      el("p", { className: "hint-line" }, t("datasets_edit.policies.hint")),
      el("div", { className: "table-wrap short", tabIndex: 0, role: "region", ariaLabel: t("datasets_edit.policies") },
        HH.table([t("datasets_edit.col.policy"), t("datasets_edit.col.scope"), t("datasets_edit.col.rule"), t("datasets_edit.col.state")],
          rows, t("datasets_edit.policies.empty"))));
  }

  HH.datasetEdit = { editBlock, policyBlock, ruleText };
})();
