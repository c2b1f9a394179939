package msgs

import (
	"maps"
	"strconv"
)

// The codes of the catalog. A code is "<area>.<what>"; its arguments are the {names} of its
// texts, the same in both languages (TestCatalogComplete).
const (
	// Problem answers (internal/httpapi): a title per status, and the details the router and
	// the error exit write themselves.
	Title400          Code = "problem.title.400"
	Title401          Code = "problem.title.401"
	Title403          Code = "problem.title.403"
	Title404          Code = "problem.title.404"
	Title405          Code = "problem.title.405"
	Title408          Code = "problem.title.408"
	Title409          Code = "problem.title.409"
	Title413          Code = "problem.title.413"
	Title429          Code = "problem.title.429"
	Title499          Code = "problem.title.499"
	Title500          Code = "problem.title.500"
	Title503          Code = "problem.title.503"
	NoRoute           Code = "problem.no_route"
	MethodNotAllowed  Code = "problem.method_not_allowed"
	Internal          Code = "problem.internal"
	TooLarge          Code = "problem.too_large"
	BodyTimeout       Code = "problem.body_timeout"
	Timeout           Code = "problem.timeout"
	ClientClosed      Code = "problem.client_closed"
	FieldRequired     Code = "field.required"
	FieldUnknown      Code = "field.unknown"
	FieldMalformed    Code = "field.malformed_json"
	FieldWrongType    Code = "field.wrong_type"
	FieldEmptyBody    Code = "field.empty_body"
	FieldTruncated    Code = "field.truncated_json"
	FieldTrailingData Code = "field.trailing_data"

	// Reasons of a positive-list evaluation (internal/enforce Evaluate), one per condition.
	EvalMissing   Code = "eval.missing"
	EvalNotBool   Code = "eval.not_boolean"
	EvalNotNumber Code = "eval.not_number"
	EvalIs        Code = "eval.is"
	EvalMustBe    Code = "eval.must_be"
	EvalMustNotBe Code = "eval.must_not_be"
	EvalAtLeast   Code = "eval.at_least"
	EvalAtMost    Code = "eval.at_most"
	EvalOneOf     Code = "eval.one_of"
	EvalUnknownOp Code = "eval.unknown_op"

	// Summaries of monitoring events (internal/monitoring rules).
	MonExceedanceHourly  Code = "mon.exceedance_hourly"
	MonExceedanceDaily   Code = "mon.exceedance_daily"
	MonExceedanceDaySent Code = "mon.exceedance_day_sent"
	MonLoadDaily         Code = "mon.load_daily"
	MonFlatHours         Code = "mon.flat_hours"
	MonFlatMinutes       Code = "mon.flat_minutes"
	MonZeroDrift         Code = "mon.zero_drift"
	MonSpanDrift         Code = "mon.span_drift"
	MonHugging           Code = "mon.hugging"
	MonO2High            Code = "mon.o2_high"
	MonDilution          Code = "mon.dilution"
	MonIdentical         Code = "mon.identical"
	MonFlagCoverExcluded Code = "mon.flag_cover_excluded"
	MonFlagCoverSides    Code = "mon.flag_cover_sides"
	MonGap               Code = "mon.gap"
	MonGapRunning        Code = "mon.gap_running"
	MonGapRunTime        Code = "mon.gap_run_time"
	MonTreatmentIdle     Code = "mon.treatment_idle"

	// Notification titles and bodies (internal/enforce, internal/postgres).
	NoteSelfCheckRequested     Code = "note.self_check_requested"
	NoteSelfCheckRequestedBody Code = "note.self_check_requested.body"
	NoteApprovalRequested      Code = "note.approval_requested"
	NoteApprovalRequestedBody  Code = "note.approval_requested.body"
	NoteWarningNew             Code = "note.warning_new"
	NoteWarningFinding         Code = "note.warning_finding"
	NoteExtensionRequested     Code = "note.extension_requested"
	NoteExtensionDecided       Code = "note.extension_decided"
	NoteIncidentReported       Code = "note.incident_reported"
	NoteSurveyFinished         Code = "note.survey_finished"
	NoteSurveyFailed           Code = "note.survey_failed"
	NoteNightlyFinished        Code = "note.nightly_finished"
	NoteNightlyFailed          Code = "note.nightly_failed"
	NoteSelfCheckDueSoon       Code = "note.self_check_due_soon"
	NoteSelfCheckOverdue       Code = "note.self_check_overdue"
)

type texts struct{ zh, en string }

// catalog holds every code's Chinese and English text.
var catalog = map[Code]texts{
	Title400: {"请求有误", "Bad Request"},
	Title401: {"未登录或凭据无效", "Unauthorized"},
	Title403: {"无权执行此操作", "Forbidden"},
	Title404: {"未找到", "Not Found"},
	Title405: {"不允许的请求方法", "Method Not Allowed"},
	Title408: {"请求超时", "Request Timeout"},
	Title409: {"与记录当前状态冲突", "Conflict"},
	Title413: {"请求内容过大", "Request Entity Too Large"},
	Title429: {"请求过于频繁", "Too Many Requests"},
	Title499: {"客户端已关闭请求", "Client Closed Request"},
	Title500: {"服务器内部错误", "Internal Server Error"},
	Title503: {"服务暂不可用", "Service Unavailable"},

	NoRoute:           {"没有路径为 {path} 的接口。", "no route for {path}"},
	MethodNotAllowed:  {"{path} 不接受 {method} 请求（可用：{allow}）。", "{method} is not allowed on {path} (allowed: {allow})"},
	Internal:          {"服务器内部错误，已记录；请稍后再试。", "internal error"},
	TooLarge:          {"请求内容超过 {limit} 字节。", "request body is larger than {limit} bytes"},
	BodyTimeout:       {"请求内容未在 {timeout} 内送达。", "the request body did not arrive within {timeout}"},
	Timeout:           {"请求处理时间过长，已中止。", "the request took too long and was stopped"},
	ClientClosed:      {"客户端已关闭请求。", "the client closed the request"},
	FieldRequired:     {"缺少必填项“{field}”。", "{field} is required"},
	FieldUnknown:      {"“{field}”不是可接受的字段。", "{field} is not a known field"},
	FieldMalformed:    {"请求内容不是有效的 JSON（第 {offset} 字节处出错）。", "malformed JSON at byte {offset}"},
	FieldWrongType:    {"“{field}”的类型不对：应为 {want}。", "{field} must be {want}"},
	FieldEmptyBody:    {"请求内容为空，需要一个 JSON 对象。", "the body is empty; a JSON object is required"},
	FieldTruncated:    {"请求内容的 JSON 不完整：在值结束之前就中断了。", "the JSON ends before its value is complete"},
	FieldTrailingData: {"JSON 之后还有多余的内容。", "unexpected data after the JSON value"},

	EvalMissing:   {"缺少“{fact}”。", "fact \"{fact}\" is missing"},
	EvalNotBool:   {"“{fact}”为 {value}，不是“是/否”。", "fact \"{fact}\" is {value}, not a boolean"},
	EvalNotNumber: {"“{fact}”为 {value}，不是数值。", "fact \"{fact}\" is {value}, not a number"},
	EvalIs:        {"“{fact}”为 {value}。", "{fact} is {value}"},
	EvalMustBe:    {"“{fact}”为 {value}，应为 {want}。", "{fact} is {value}, must be {want}"},
	EvalMustNotBe: {"“{fact}”为 {value}，不得为此值。", "{fact} is {value}, must not be"},
	EvalAtLeast:   {"“{fact}”为 {value}，应不低于 {limit}。", "{fact} is {value}, must be at least {limit}"},
	EvalAtMost:    {"“{fact}”为 {value}，应不高于 {limit}。", "{fact} is {value}, must be at most {limit}"},
	EvalOneOf:     {"“{fact}”为 {value}，应为以下之一：{allowed}。", "{fact} is {value}, must be one of {allowed}"},
	EvalUnknownOp: {"条件的运算符 {op} 无法识别。", "unknown op {op}"},

	MonExceedanceHourly:  {"{pollutant} 超过小时限值 {limit} {unit}，持续 {hours} 小时（峰值 {peak}）", "{pollutant} above the hourly limit {limit} {unit} for {hours} h (peak {peak})"},
	MonExceedanceDaily:   {"{pollutant} 日均值 {value} 超过日限值 {limit} {unit}（有效小时 {hours} 个）", "{pollutant} daily value {value} above the daily limit {limit} {unit} ({hours} valid hours)"},
	MonExceedanceDaySent: {"{pollutant} 日均值 {value} 超过日限值 {limit} {unit}（数采仪上传的日数据，CN 2031）", "{pollutant} daily value {value} above the daily limit {limit} {unit} (day value sent, CN 2031)"},
	MonLoadDaily:         {"{pollutant} 日排放量 {load} 千克，超过许可的 {limit} 千克", "{pollutant} daily load {load} kg above the permit's {limit} kg"},
	MonFlatHours:         {"{pollutant} 连续 {hours} 个有效小时恒为 {value}", "{pollutant} constant at {value} for {hours} valid hours"},
	MonFlatMinutes:       {"{pollutant} 连续 {count} 个分钟值恒为 {value}", "{pollutant} constant at {value} for {count} minute values"},
	MonZeroDrift:         {"停产 {hours} 小时期间 {pollutant} 平均读数 {mean}（为限值的 {percent} %）", "{pollutant} reads {mean} on average over {hours} hours with the source stopped ({percent} % of the limit)"},
	MonSpanDrift:         {"{pollutant} 校准读数由 {from} 变为 {to}（{percent} %）", "{pollutant} calibration reading moved from {from} to {to} ({percent} %)"},
	MonHugging:           {"{hours} 个有效小时中有 {near} 个 {pollutant} 处于限值 {limit} 的 {low} %–100 % 之间", "{pollutant} within {low} %–100 % of the limit {limit} in {near} of {hours} valid hours"},
	MonO2High:            {"生产期间含氧量连续 {hours} 小时不低于 {o2} %", "O2 at or above {o2} % for {hours} hours with the source running"},
	MonDilution:          {"{pollutant} 下降 {fell} %，同时流量上升 {rose} %，排放量变化在 {load} % 以内", "{pollutant} fell {fell} % while the flow rose {rose} %, load within {load} %"},
	MonIdentical:         {"{pollutant} 连续 {hours} 小时与监测点 {other} 的数据完全相同", "{pollutant} identical to MN {other} for {hours} hours"},
	MonFlagCoverExcluded: {"{pollutant} 连续 {hours} 小时标记为 {flags}，而被剔除的数值超过限值", "{pollutant} flagged {flags} for {hours} hours where the excluded values exceed the limit"},
	MonFlagCoverSides:    {"{pollutant} 连续 {hours} 小时标记为 {flags}，而其前后的有效小时均处于限值", "{pollutant} flagged {flags} for {hours} hours where the valid hours on both sides are at the limit"},
	MonGap:               {"生产期间缺失 {hours} 小时数据（前后均在生产）", "no data for {hours} hours while the source ran before and after"},
	MonGapRunning:        {"缺失 {hours} 小时数据，而数采仪报告其中 {running} 小时设施在运行（CN 2021）", "no data for {hours} hours while the logger reported the facilities running in {running} of them (CN 2021)"},
	MonGapRunTime:        {"治理设施 {facility} 当日运行 {ran} 小时（CN 2041），而当日只有 {covered} 小时有数据", "facility {facility} ran {ran} h on the day (CN 2041) but only {covered} hours of the day have data"},
	MonTreatmentIdle:     {"治理设施 {facility} 当日仅运行 {ran} 小时（CN 2041），而当日排放 {hours} 小时", "pollution-control facility {facility} ran {ran} h on the day (CN 2041) while the source discharged for {hours} hours"},

	NoteSelfCheckRequested:     {"请在 {deadline} 前提交自查报告（检查 {inspection}）", "Self-check requested (inspection {inspection}): report by {deadline}"},
	NoteSelfCheckRequestedBody: {"请核查预警所涉事项，并在期限前提交书面自查报告及证明材料。", "Check the matters of the warnings and submit a written self-check report with proof before the deadline."},
	NoteApprovalRequested:      {"现场检查待审批（检查 {inspection}，{uscc}）", "Site visit to approve (inspection {inspection}, {uscc})"},
	NoteApprovalRequestedBody:  {"触发原因 {trigger}：{reason}（申请人 {by}）", "Trigger {trigger}: {reason} (requested by {by})"},
	NoteWarningFinding:         {"遥感发现 {ref}：{kind} · {cls}", "finding {ref}: {kind} {cls}"},
	NoteWarningNew:             {"{uscc} 有新预警（检查 {inspection}，{outcome}）", "New warning on {uscc} (inspection {inspection}, {outcome})"},
	NoteExtensionRequested:     {"{uscc} 申请延期至 {until}（检查 {inspection}）", "Extension asked by {uscc} (inspection {inspection}) until {until}"},
	NoteExtensionDecided:       {"延期申请{decision}（检查 {inspection}）：报告期限 {deadline}", "Extension {decision} (inspection {inspection}): report by {deadline}"},
	NoteIncidentReported:       {"{uscc} 主动报告了事件（检查 {inspection}）", "Incident reported by {uscc} itself (inspection {inspection})"},
	NoteSurveyFinished:         {"调查 {survey} 已完成：{done} 个部分完成，{failed} 个失败", "Survey {survey} finished: {done} parts done, {failed} failed"},
	NoteSurveyFailed:           {"调查 {survey} 失败：全部 {failed} 个部分均失败", "Survey {survey} failed: every one of its {failed} parts failed"},
	NoteNightlyFailed:          {"夜间运行 {run} 失败", "Nightly run {run} failed"},
	NoteSelfCheckDueSoon:       {"自查即将到期（检查 {inspection}）：请在 {deadline} 前提交报告", "Self-check due soon (inspection {inspection}): report by {deadline} CST"},
	NoteSelfCheckOverdue:       {"自查已逾期（检查 {inspection}）：期限 {deadline} 已过", "Self-check overdue (inspection {inspection}): the deadline {deadline} CST has passed"},
	NoteNightlyFinished:        {"夜间运行 {run} 已完成：扫描 {scanned}，登记 {registered}，排队 {queued}，到期清单条目 {expired}，问题 {problems}", "Nightly run {run} finished: {scanned} scanned, {registered} registered, {queued} queued, {expired} list entries expired, {problems} problems"},
}

// argValues are the Chinese of the domain codes some arguments hold, by argument name: Text
// in Chinese says them in Chinese (an e-mail, a problem detail). The web interface translates
// the same arguments from its vocabulary (msgcatalog.ts argVocab; internal/webui's tests hold
// the two to the same words).
var argValues = map[string]map[string]string{
	"outcome":  {"opened": "新立检查", "joined": "并入已有检查"},
	"kind":     {"change": "变化", "hotspot": "热异常", "plume": "羽流", "exceedance": "超标", "monitoring": "自动监控"},
	"decision": {"granted": "已同意", "refused": "未同意"},
	"trigger": {"complaint": "群众举报投诉", "media_report": "媒体曝光", "referral": "上级交办",
		"offsite_anomaly": "非现场发现的问题（已自查）", "routine": "日常检查（仅限非清单企业）"},
}

// ArgValuesZH returns the Chinese of the domain codes arguments hold: argument → code → text.
func ArgValuesZH() map[string]map[string]string {
	out := make(map[string]map[string]string, len(argValues))
	for k, v := range argValues {
		out[k] = maps.Clone(v)
	}
	return out
}

// TitleOf is the code of the title of a problem answer with status, "" for a status the
// catalog has no title of.
func TitleOf(status int) Code {
	c := Code("problem.title." + strconv.Itoa(status))
	if _, ok := catalog[c]; ok {
		return c
	}
	return ""
}
