// Chinese (default) and English. Every string the interface shows is here; t(key) picks the
// language the user chose (stored in localStorage), t(key, {n: 3}) fills {n}.

type Lang = 'zh' | 'en';

const dict: Record<string, [string, string]> = {
  app: ['Offsite 非现场监管', 'Offsite off-site supervision'],
  nav_enterprises: ['企业', 'Enterprises'],
  nav_survey: ['调查', 'Surveys'],
  nav_list: ['正面清单', 'Positive list'],
  nav_public: ['公示名单', 'Public list'],
  sign_out: ['退出', 'Sign out'],
  signed_in_as: ['{name}（{role}）', '{name} ({role})'],
  lang_switch: ['English', '中文'],
  // sign-in
  signin_title: ['登录', 'Sign in'],
  signin_help: ['请输入管理员发放的访问令牌。令牌只保存在本浏览器标签页中。', 'Enter the access token your administrator gave you. It is kept in this browser tab only.'],
  token: ['访问令牌', 'Access token'],
  signin: ['登录', 'Sign in'],
  signin_public: ['无需登录即可查看公示名单', 'The public list needs no sign-in'],
  // roles
  role_admin: ['管理员', 'administrator'],
  role_analyst: ['分析员', 'analyst'],
  role_inspector: ['检查员', 'inspector'],
  role_approver: ['审批负责人', 'approver'],
  role_enterprise: ['企业', 'enterprise'],
  role_public: ['公众', 'public'],
  // errors
  err_network: ['无法连接服务器，请检查网络后重试。', 'The server cannot be reached. Check the connection and try again.'],
  err_401: ['令牌无效或已失效，请重新登录。', 'The token is not valid. Please sign in again.'],
  err_403: ['您的角色（{role}）无权执行此操作。', 'Your role ({role}) may not do this.'],
  err_404: ['找不到所请求的记录，可能已被删除或编号有误。', 'The record was not found; it may not exist or the link is wrong.'],
  err_409: ['操作未完成：记录的状态不允许此操作，或已被他人修改。请刷新后重试。', 'Not done: the record’s state does not allow this, or someone changed it meanwhile. Reload and try again.'],
  err_400: ['提交的内容有误，请检查后重试。', 'Something in the form is not right. Please check it and try again.'],
  err_400_field: ['“{field}”填写有误。', 'The field “{field}” is not right.'],
  err_413: ['文件或内容太大。', 'The upload or request is too large.'],
  err_500: ['服务器内部错误，请稍后再试；如果一直出现，请联系管理员。', 'The server had an internal error. Try again later; if it persists, tell your administrator.'],
  err_503: ['服务暂不可用（依赖的服务未响应），请稍后再试。', 'The service is unavailable right now (a dependency does not answer). Try again later.'],
  err_detail: ['详情', 'Details'],
  loading: ['加载中…', 'Loading…'],
  retry: ['重试', 'Retry'],
  none: ['无', 'none'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  all: ['全部', 'all'],
  search: ['查询', 'Search'],
  reset: ['重置', 'Reset'],
  prev: ['上一页', 'Previous'],
  next: ['下一页', 'Next'],
  page_of: ['第 {from}–{to} 条，共 {total} 条', '{from}–{to} of {total}'],
  download: ['下载', 'Download'],
  copy: ['复制', 'Copy'],
  copied: ['已复制', 'Copied'],
  cancel: ['取消', 'Cancel'],
  submit: ['提交', 'Submit'],
  done_ok: ['已完成', 'Done'],
  // enterprises
  ent_title: ['企业', 'Enterprises'],
  ent_q: ['名称或统一社会信用代码', 'Name or USCC'],
  ent_status: ['清单状态', 'List status'],
  ent_industry: ['行业代码', 'Industry code'],
  ent_zone: ['园区/区域', 'Zone'],
  ent_open: ['未结预警', 'Open warnings'],
  ent_open_yes: ['有未结预警', 'with open warnings'],
  ent_open_no: ['无未结预警', 'without open warnings'],
  ent_name: ['企业名称', 'Name'],
  uscc: ['统一社会信用代码', 'USCC'],
  ent_permit: ['排污许可证编号', 'Discharge permit'],
  ent_address: ['地址', 'Address'],
  ent_key: ['重点排污单位', 'Key discharger'],
  ent_complaint: ['投诉渠道', 'Complaint channel'],
  ent_empty: ['没有符合条件的企业。', 'No enterprise matches.'],
  ent_special: ['特殊监管对象', 'special supervision'],
  ent_barred: ['不得再纳入清单', 'barred from the list'],
  warnings_n: ['{n} 条预警', '{n} warnings'],
  // list statuses
  st_none: ['未申报', 'not proposed'],
  st_proposed: ['已申报', 'proposed'],
  st_notice: ['公示中', 'on notice'],
  st_listed: ['已纳入', 'listed'],
  st_removed: ['已移出', 'removed'],
  st_expired: ['已到期', 'expired'],
  st_rejected: ['未通过', 'rejected'],
  // enterprise page
  map: ['地图', 'Map'],
  map_legend: ['图例', 'Legend'],
  parcel: ['地块', 'Parcel'],
  parcels: ['地块', 'Parcels'],
  no_parcels: ['该企业尚无地块。', 'This enterprise has no parcels yet.'],
  findings: ['发现', 'Findings'],
  no_findings: ['尚无发现。', 'No findings yet.'],
  kind_change: ['变化', 'change'],
  kind_hotspot: ['热异常', 'hotspot'],
  kind_plume: ['羽流', 'plume'],
  kind_exceedance: ['超标', 'exceedance'],
  score: ['得分', 'Score'],
  area: ['面积', 'Area'],
  severity: ['严重程度', 'Severity'],
  detected_at: ['发现时间（影像日期）', 'Detected (acquisition)'],
  before: ['前期', 'Before'],
  after: ['后期', 'After'],
  swipe: ['卷帘', 'Swipe'],
  toggle: ['切换', 'Toggle'],
  side_by_side: ['并排', 'Side by side'],
  show_before: ['显示前期', 'Show before'],
  show_after: ['显示后期', 'Show after'],
  no_quicklooks: ['此发现没有前后期快视图（单期影像或轨迹）。', 'This finding has no before/after quick-looks (one date or a track).'],
  evidence: ['证据', 'Evidence'],
  artifact: ['文件', 'File'],
  size: ['大小', 'Size'],
  sha256: ['SHA-256', 'SHA-256'],
  provenance: ['来源（STAC）', 'Provenance (STAC)'],
  pipeline: ['处理流程', 'Pipeline'],
  captures: ['影像', 'Captures'],
  clips: ['地块裁剪', 'Parcel clips'],
  capture: ['影像', 'Capture'],
  pixels: ['有效像元', 'valid pixels'],
  select_finding: ['选择一个发现以查看前后期影像和证据。', 'Select a finding to see its before/after images and evidence.'],
  inspections: ['非现场检查', 'Off-site inspections'],
  no_inspections: ['没有检查记录。', 'No inspections.'],
  timeline: ['办理过程', 'Steps taken'],
  actions: ['可执行操作', 'Actions'],
  no_actions: ['您的角色在此状态下没有可执行的操作。', 'Your role has no action at this stage.'],
  opened_at: ['立案时间', 'Opened'],
  ins_open: ['已立案', 'open'],
  ins_self_check_requested: ['已要求自查', 'self-check requested'],
  ins_report_submitted: ['自查报告已提交', 'report submitted'],
  ins_site_visit_requested: ['已申请现场检查', 'site visit requested'],
  ins_site_visit_approved: ['现场检查已批准', 'site visit approved'],
  ins_site_visit_done: ['现场检查已完成', 'site visit done'],
  ins_closed: ['已办结', 'closed'],
  act_self_check: ['要求企业自查', 'Ask for a self-check'],
  act_report: ['提交自查报告', 'Submit the self-check report'],
  act_review_close: ['审核报告：办结', 'Review: close'],
  act_review_visit: ['审核报告：需现场检查', 'Review: site visit needed'],
  act_site_visit: ['申请现场检查', 'Request a site visit'],
  act_approve: ['批准现场检查', 'Approve the site visit'],
  act_record: ['记录现场检查', 'Record the site visit'],
  act_close: ['办结', 'Close'],
  deadline: ['期限', 'Deadline'],
  notes: ['说明', 'Notes'],
  report_text: ['报告内容', 'Report'],
  trigger: ['触发原因', 'Trigger'],
  reason: ['理由', 'Reason'],
  tr_complaint: ['群众举报投诉', 'complaint'],
  tr_media_report: ['媒体曝光', 'media report'],
  tr_referral: ['上级交办', 'referral from above'],
  tr_offsite_anomaly: ['非现场发现的问题（已自查）', 'off-site anomaly (after self-check)'],
  tr_routine: ['日常检查（仅限非清单企业）', 'routine (enterprises not on the list only)'],
  checklist: ['检查清单', 'Checklist'],
  res_compliant: ['合规', 'compliant'],
  res_non_compliant: ['不合规', 'non-compliant'],
  res_not_applicable: ['不适用', 'not applicable'],
  close_note: ['办结说明', 'Closing note'],
  violation: ['发现违法行为', 'A violation was found'],
  v_first_violation: ['首次违法', 'first violation'],
  v_minor: ['情节轻微', 'minor'],
  v_promptly_corrected: ['及时改正', 'promptly corrected'],
  v_self_reported: ['主动报告', 'self-reported'],
  v_non_wilful: ['非主观故意', 'not wilful'],
  v_fixed_in_time: ['及时整改', 'fixed in time'],
  v_harm: ['造成危害后果', 'caused harm'],
  v_unreported_exceedance: ['未报告的超标排放', 'unreported exceedance'],
  v_malicious: ['恶意违法', 'malicious'],
  v_suspected_crime: ['涉嫌犯罪', 'suspected crime'],
  step_by: ['{actor}（{role}）', '{actor} ({role})'],
  warnings: ['预警', 'Warnings'],
  confirmations: ['再次确认 {n} 次', 'confirmed {n} more times'],
  // surveys
  survey_title: ['新建调查', 'New survey'],
  survey_zone: ['调查范围', 'Zone'],
  survey_draw: ['在地图上绘制范围', 'Draw the zone on the map'],
  survey_draw_help: ['点击地图添加顶点，双击结束。已有地块以灰色显示。', 'Click to add corners, double-click to finish. Existing parcels are shown in grey.'],
  survey_clear: ['清除', 'Clear'],
  survey_pick_zone: ['或选择已命名的区域', 'or pick a named zone'],
  survey_no_zone: ['请先绘制或选择调查范围。', 'Draw or pick a zone first.'],
  survey_name: ['名称', 'Name'],
  survey_kinds: ['影像类型', 'Capture kinds'],
  survey_start: ['开始日期', 'From'],
  survey_end: ['结束日期（不含）', 'To (exclusive)'],
  survey_queue: ['提交调查', 'Queue the survey'],
  survey_forbidden: ['您的角色（{role}）不能提交调查；需要分析员或管理员。', 'Your role ({role}) cannot queue surveys; an analyst or administrator can.'],
  survey_progress: ['进度', 'Progress'],
  survey_status: ['状态', 'Status'],
  sv_queued: ['排队中', 'queued'],
  sv_running: ['运行中', 'running'],
  sv_finished: ['已完成', 'finished'],
  sv_error: ['出错', 'error'],
  sv_canceled: ['已取消', 'canceled'],
  sv_counts: ['共 {total} 项：完成 {done}，失败 {failed}，运行中 {running}，排队 {queued}；裁剪 {clips}，发现 {findings}', '{total} parts: {done} done, {failed} failed, {running} running, {queued} queued; {clips} clips, {findings} findings'],
  sv_parcels: ['范围内地块 {n} 个', '{n} parcels in the zone'],
  sv_parts: ['各影像处理情况', 'Parts (one per capture)'],
  sv_cancel: ['取消排队部分', 'Cancel queued parts'],
  sv_retry: ['重试失败部分', 'Retry failed parts'],
  sv_new: ['新建调查', 'New survey'],
  sv_empty: ['该范围和时间内没有所选类型的影像，调查无事可做。', 'No capture of the chosen kinds in that zone and window: nothing to do.'],
  part_state: ['状态', 'State'],
  // positive list
  list_title: ['正面清单', 'Positive list'],
  list_propose: ['申报纳入清单', 'Propose an enterprise'],
  list_evaluate: ['评估准入条件', 'Evaluate admission'],
  list_facts: ['企业情况', 'Assessment facts'],
  list_admitted: ['满足准入路径：{path}', 'Admission path met: {path}'],
  list_not_admitted: ['不满足任何准入路径。', 'No admission path is met.'],
  list_valid: ['有效期', 'Validity'],
  list_notice: ['公示期', 'Notice'],
  list_health: ['体检式帮扶', 'Health-check visit'],
  list_objections: ['异议', 'Objections'],
  act_notice: ['开始公示', 'Start the public notice'],
  act_object: ['登记异议', 'Record an objection'],
  act_resolve_up: ['异议成立', 'Uphold'],
  act_resolve_dis: ['异议不成立', 'Dismiss'],
  act_list: ['公示期满，纳入清单', 'Publish on the list'],
  act_remove: ['移出清单', 'Remove'],
  notice_start: ['公示开始', 'Notice from'],
  notice_end: ['公示结束', 'Notice until'],
  objection_text: ['异议内容', 'Objection'],
  raised_by: ['提出人', 'Raised by'],
  resolution: ['处理意见', 'Resolution'],
  removal_category: ['移出类别', 'Removal category'],
  lifecycle: ['申报 → 公示 → 纳入 → 到期/移出', 'proposed → notice → listed → expired/removed'],
  notices_title: ['公示中的企业', 'On public notice'],
  no_notices: ['目前没有公示中的企业。', 'Nobody is on public notice now.'],
  list_empty: ['没有清单记录。', 'No list entries.'],
  // public
  public_title: ['生态环境监督执法正面清单（公示）', 'Positive list of law-abiding enterprises (published)'],
  public_csv: ['下载 CSV', 'Download CSV'],
  public_empty: ['名单为空。', 'The list is empty.'],
  disclosures: ['依法公开的处理结果', 'Disclosed dispositions'],
  no_disclosures: ['暂无。', 'None.'],
  no_basemap: ['未配置底图：地图只显示 Offsite 自身的地块和发现。', 'No base map configured: the map shows Offsite’s own parcels and findings only.'],
};

let lang: Lang = (localStorage.getItem('offsite.lang') as Lang) === 'en' ? 'en' : 'zh';

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('offsite.lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(key: string, vars: Record<string, string | number> = {}): string {
  const e = dict[key];
  let s = e ? e[lang === 'zh' ? 0 : 1] : key;
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

// tk translates a code under a prefix ("st_" + "listed"), falling back to the code itself.
export function tk(prefix: string, code: string | undefined | null): string {
  if (!code) return '';
  return dict[prefix + code] ? t(prefix + code) : code;
}

export function fmtDate(v: string | undefined | null, withTime = false): string {
  if (!v) return '';
  const d = new Date(v);
  if (isNaN(d.getTime())) return v;
  return d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', withTime
    ? { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' }
    : { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Asia/Shanghai' });
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
