/* Projects (#projects, #projects/ID): the key new-infrastructure project registry (新基建重点项目库). The list
   with a status filter; a project's detail with its progress (GET /projects/{id}/history: filing and every step,
   who, when, the comment, from the audit trail); the next steps the caller's role may take, with a comment:
   the regulator reviews, approves or rejects (filed or reviewed), the operator reports building and operating
   (admin: all). Operators file projects on their own centers (and see only those); the server decides. */
(function () {
  "use strict";

  HH.addStrings({
    "zh-CN": {
      "projects.nav": "重点项目",
      "projects.title": "新基建重点项目库",
      "projects.hint": "运营方备案 → 监管方审查、批准或驳回 → 运营方建设、投运",
      "projects.filter": "按状态筛选",
      "projects.all": "全部状态",
      "projects.status.filed": "已备案",
      "projects.status.reviewed": "已审查",
      "projects.status.approved": "已批准",
      "projects.status.building": "建设中",
      "projects.status.operating": "已投运",
      "projects.status.rejected": "已驳回",
      "projects.col.id": "编号",
      "projects.col.name": "名称",
      "projects.col.operator": "运营企业",
      "projects.col.centers": "算力中心",
      "projects.col.investment": "投资额",
      "projects.col.status": "状态",
      "projects.col.updated": "更新时间",
      "projects.col.open": "详情",
      "projects.open": "查看",
      "projects.empty": "没有项目",
      "projects.back": "返回列表",
      "projects.detail": "项目详情",
      "projects.filed_by": "备案人",
      "projects.created": "备案时间",
      "projects.description": "说明",
      "projects.history": "项目进展",
      "projects.h.at": "时间",
      "projects.h.actor": "操作者",
      "projects.h.step": "变更",
      "projects.h.comment": "意见",
      "projects.h.empty": "暂无记录",
      "projects.act.title": "办理",
      "projects.comment": "意见（可选）",
      "projects.to.reviewed": "审查通过",
      "projects.to.approved": "批准",
      "projects.to.rejected": "驳回",
      "projects.to.building": "开工建设",
      "projects.to.operating": "投入运营",
      "projects.moved": "项目已变更为「{status}」",
      "projects.none_next": "当前状态下您没有可办理的步骤",
      "projects.file.title": "备案新项目",
      "projects.f.id": "项目编号",
      "projects.f.name": "项目名称",
      "projects.f.operator": "运营企业",
      "projects.f.centers": "所在算力中心",
      "projects.f.investment": "投资额（元）",
      "projects.f.description": "说明",
      "projects.file": "备案",
      "projects.filed": "项目 {id} 已备案",
      "projects.need_center": "请至少选择一个算力中心",
    },
    en: {
      "projects.nav": "Projects",
      "projects.title": "Key project registry",
      "projects.hint": "The operator files → the regulator reviews, approves or rejects → the operator builds and runs",
      "projects.filter": "Filter by status",
      "projects.all": "All statuses",
      "projects.status.filed": "Filed",
      "projects.status.reviewed": "Reviewed",
      "projects.status.approved": "Approved",
      "projects.status.building": "Building",
      "projects.status.operating": "Operating",
      "projects.status.rejected": "Rejected",
      "projects.col.id": "ID",
      "projects.col.name": "Name",
      "projects.col.operator": "Operator",
      "projects.col.centers": "Centers",
      "projects.col.investment": "Investment",
      "projects.col.status": "Status",
      "projects.col.updated": "Updated",
      "projects.col.open": "Detail",
      "projects.open": "Open",
      "projects.empty": "No project",
      "projects.back": "Back to the list",
      "projects.detail": "Project",
      "projects.filed_by": "Filed by",
      "projects.created": "Filed on",
      "projects.description": "Description",
      "projects.history": "Progress",
      "projects.h.at": "Time",
      "projects.h.actor": "Actor",
      "projects.h.step": "Change",
      "projects.h.comment": "Comment",
      "projects.h.empty": "No record yet",
      "projects.act.title": "Act on it",
      "projects.comment": "Comment (optional)",
      "projects.to.reviewed": "Mark reviewed",
      "projects.to.approved": "Approve",
      "projects.to.rejected": "Reject",
      "projects.to.building": "Start building",
      "projects.to.operating": "Put into operation",
      "projects.moved": "The project is now {status}",
      "projects.none_next": "Your role has no step to take in this status",
      "projects.file.title": "File a new project",
      "projects.f.id": "Project ID",
      "projects.f.name": "Project name",
      "projects.f.operator": "Operating company",
      "projects.f.centers": "Centers",
      "projects.f.investment": "Investment (CNY)",
      "projects.f.description": "Description",
      "projects.file": "File",
      "projects.filed": "Project {id} filed",
      "projects.need_center": "choose at least one center",
    },
  });

  const { t, el } = HH;
  const scrollWrap = HH.scrollWrap;
  const LIMIT = 50;
  const STATUSES = ["filed", "reviewed", "approved", "building", "operating", "rejected"];
  /** The steps from each status and who may take them (huanghe.domain.tenancy; the server decides). */
  const NEXT = { filed: ["reviewed", "rejected"], reviewed: ["approved", "rejected"], approved: ["building"], building: ["operating"] };
  const STEP_ROLES = { reviewed: ["regulator", "admin"], approved: ["regulator", "admin"], rejected: ["regulator", "admin"],
    building: ["operator", "admin"], operating: ["operator", "admin"] };
  const MOVE = "POST /api/v1/projects/{project_id}/transition";
  const FILE = "POST /api/v1/projects";
  const st = { status: "", offset: 0, page: null, error: null, id: null, project: null, history: [], note: "", centers: [] };
  let root = null;

  const statusBadge = (s) => el("span", { className: `state project-${s}`, dataset: { status: s } }, t(`projects.status.${s}`));

  // The list's and a project's reads share one guard (both draw the page): only the latest of overlapping reads (a
  // filter or pager change, a filing's or step's reload, another project opened) stores its answers and draws.
  const fresh = HH.latest();
  async function loadList() {
    const mine = fresh();
    let page = null;
    let error = null;
    try {
      page = await HH.api("/api/v1/projects" + HH.query({ status: st.status, limit: LIMIT, offset: st.offset }));
    } catch (err) {
      error = err;
    }
    if (!mine()) return;  // overtaken: the later read draws
    Object.assign(st, error ? { error } : { page, error: null });
    render();
  }
  async function loadDetail() {
    const mine = fresh();
    let got = null;
    let error = null;
    try {
      const id = encodeURIComponent(st.id);
      const [project, history] = await Promise.all([
        HH.api(`/api/v1/projects/${id}`), HH.api(`/api/v1/projects/${id}/history`),
      ]);
      got = { project, history, error: null };
    } catch (err) {
      error = err;
    }
    if (!mine()) return;
    Object.assign(st, got || { error, project: null });
    render();
  }
  async function move(to, comment) {
    try {
      st.project = await HH.api(`/api/v1/projects/${encodeURIComponent(st.id)}/transition`, { method: "POST", body: { to, comment } });
      st.note = t("projects.moved", { status: t(`projects.status.${to}`) });
      st.error = null;
      const said = root.querySelector("#projects-comment");
      if (said) HH.keepInputs.forget(said);  // the comment went with the step
    } catch (err) {
      st.error = err;
      st.note = "";
    }
    await loadDetail();
  }
  async function file(form) {
    const centers = [...form.querySelectorAll("input[name='centers']:checked")].map((c) => c.value);
    if (!centers.length) {
      st.error = new Error(t("projects.need_center"));
      return render();
    }
    const body = { id: form.elements.id.value.trim(), name: form.elements.name.value.trim(), operator: form.elements.operator.value.trim(),
      centers, investment_cny: form.elements.investment_cny.value.trim() || "0", description: form.elements.description.value.trim() };
    try {
      const p = await HH.api("/api/v1/projects", { method: "POST", body });
      st.note = t("projects.filed", { id: p.id });
      st.error = null;
      HH.keepInputs.forget(form);  // filed: the reload draws the form afresh
    } catch (err) {
      st.error = err;
      st.note = "";
    }
    await loadList();
  }

  function field(key, input) {
    return el("label", { className: "field" }, el("span", {}, t(key)), input);
  }
  function fileForm() {
    if (!HH.can(FILE)) return null;
    const boxes = st.centers.map((c) => el("label", { className: "inline" },
      el("input", { type: "checkbox", name: "centers", value: c.id }), `${HH.named(c)} (${c.id})`));
    const form = el("form", { className: "job-form", id: "projects-file" },
      field("projects.f.id", el("input", { name: "id", required: true, autocomplete: "off" })),
      field("projects.f.name", el("input", { name: "name", required: true, autocomplete: "off" })),
      field("projects.f.operator", el("input", { name: "operator", required: true, autocomplete: "off" })),
      field("projects.f.investment", el("input", { name: "investment_cny", type: "number", min: "0", step: "0.01" })),
      el("fieldset", { className: "wide centers-pick" }, el("legend", {}, t("projects.f.centers")), boxes),
      el("label", { className: "field wide" }, el("span", {}, t("projects.f.description")), el("textarea", { name: "description", rows: 2 })),
      el("div", { className: "form-actions wide" }, el("button", { type: "submit", className: "primary" }, t("projects.file"))));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); file(form); });
    return el("section", { className: "panel section" }, el("h3", {}, t("projects.file.title")), form);
  }
  function listView() {
    const filter = el("select", { id: "projects-status", dataset: { keep: "off" } }, new Option(t("projects.all"), ""),
      STATUSES.map((s) => new Option(t(`projects.status.${s}`), s)));
    filter.value = st.status;
    filter.addEventListener("change", () => { st.status = filter.value; st.offset = 0; loadList(); });
    const labels = ["projects.col.id", "projects.col.name", "projects.col.operator", "projects.col.centers",
      { text: t("projects.col.investment"), num: true }, "projects.col.status", "projects.col.updated", "projects.col.open"]
      .map((k) => (typeof k === "string" ? t(k) : k));
    const rows = (st.page ? st.page.items : []).map((p) => [
      { text: p.id, className: "mono" }, p.name, p.operator, p.centers.join(", "),
      { text: HH.money(Number(p.investment_cny)), className: "num" }, statusBadge(p.status), HH.time(p.updated),
      el("a", { href: `#projects/${encodeURIComponent(p.id)}`, className: "button-link", dataset: { id: p.id } }, t("projects.open")),
    ]);
    const table = HH.table(labels, rows, t("projects.empty"));
    table.id = "projects-table";
    return [
      el("section", { className: "panel section" },
        el("div", { className: "section-head" }, el("h2", {}, t("projects.title")),
          el("label", { className: "inline" }, el("span", {}, t("projects.filter")), filter),
          el("span", { className: "hint" }, t("projects.hint"))),
        el("p", { className: "form-status", role: "status", id: "projects-note" }, st.note),
        st.error ? HH.errorBox(st.error) : null,
        scrollWrap("table-wrap short", table),
        st.page ? HH.pager(st.page, (o) => { st.offset = o; loadList(); }) : null),
      fileForm(),
    ];
  }
  function actions(p) {
    const role = HH.whoami ? HH.whoami.role : "";
    const steps = (NEXT[p.status] || []).filter((to) => STEP_ROLES[to].includes(role));
    if (!HH.can(MOVE) || !steps.length) return el("p", { className: "hint-line" }, t("projects.none_next"));
    const comment = el("textarea", { id: "projects-comment", rows: 2, maxLength: 2000 });
    const buttons = steps.map((to) => {
      const b = el("button", { type: "button", className: to === "rejected" ? "danger" : "primary", dataset: { to } }, t(`projects.to.${to}`));
      b.addEventListener("click", () => move(to, comment.value.trim()));
      return b;
    });
    return el("div", { className: "project-act" },
      el("label", { className: "field" }, el("span", {}, t("projects.comment")), comment),
      el("div", { className: "form-actions" }, buttons));
  }
  function detailView() {
    const p = st.project;
    const back = el("a", { href: "#projects", className: "button-link" }, t("projects.back"));
    if (!p) return [el("section", { className: "panel section" }, el("h2", {}, t("projects.detail")), back, st.error ? HH.errorBox(st.error) : null)];
    const kv = [["projects.col.id", p.id], ["projects.col.operator", p.operator], ["projects.col.centers", p.centers.join(", ")],
      ["projects.col.investment", HH.money(Number(p.investment_cny))], ["projects.filed_by", p.filed_by],
      ["projects.created", HH.time(p.created)], ["projects.col.updated", HH.time(p.updated)], ["projects.description", p.description || "–"]];
    const hist = HH.table(["projects.h.at", "projects.h.actor", "projects.h.step", "projects.h.comment"].map((k) => t(k)),
      st.history.map((e) => [HH.time(e.at), { text: e.actor, className: "mono" },
        [e.from_status ? t(`projects.status.${e.from_status}`) + " → " : "", t(`projects.status.${e.to_status}`)],
        { text: e.comment || "–", className: "wrap" }]), t("projects.h.empty"));
    hist.id = "projects-history";
    return [el("section", { className: "panel section", id: "projects-detail", dataset: { id: p.id, status: p.status } },
      el("div", { className: "section-head" }, el("h2", {}, `${t("projects.detail")}: ${p.name}`), statusBadge(p.status), back),
      el("p", { className: "ok-line", role: "status", id: "projects-note" }, st.note),
      st.error ? HH.errorBox(st.error) : null,
      el("dl", { className: "kv" }, kv.map(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)])),
      el("h3", {}, t("projects.act.title")), actions(p),
      el("h3", {}, t("projects.history")), scrollWrap("table-wrap", hist))];
  }
  /** Draw the page; what was typed and not sent (the filing form, a step's comment) stays (HH.keepInputs): a
      filter or pager change, a refused filing or step redraws them. */
  function render() {
    if (root) HH.keepInputs(root, () => root.replaceChildren(...(st.id ? detailView() : listView()).filter(Boolean)));
  }
  async function loadCenters() {
    if (!HH.can(FILE) || st.centers.length) return;
    const me = HH.whoami;
    const topo = await HH.topology;
    const all = topo ? topo.centers : [];
    st.centers = me && me.role === "operator" ? all.filter((c) => (me.centers || []).includes(c.id)) : all;
  }

  HH.registerPage({
    name: "projects",
    nav: "projects.nav",
    needs: ["GET /api/v1/projects"],
    calls: ["GET /api/v1/projects", "GET /api/v1/projects/{project_id}", "GET /api/v1/projects/{project_id}/history",
      MOVE, FILE],
    async show(params, elRoot) {
      root = elRoot;
      const id = params[0] || null;
      if (id !== st.id) { st.note = ""; st.error = null; }
      st.id = id;
      if (id) return loadDetail();
      await loadCenters();
      return loadList();
    },
  });
  HH.onLang(() => { if (HH.view === "projects") render(); });
})();
