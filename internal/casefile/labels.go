package casefile

import (
	"strings"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// labels are the words of a case file in one language.
type labels struct {
	titleInspection, titleEnterprise string
	generated, generatedBy           string

	secEnterprise, secInspection, secParcels, secArtifacts, secTimeline, secSelfCheck, secSiteVisit,
	secDisposition, secInspections, secAuditCheck, secVerify string

	name, uscc, permitNo, listStatus, industry, address, zone, keyDischarger, complaint, barred,
	specialSupervision, legacyUSCC string
	yes, no, none string

	inspID, level, matter, status, listedAtOpening, openedBy, openedAt, closedAt, closeNote, linkedTo string
	warnings, warningSource, severity, message                                                        string

	parcel, parcelName, finding, kind, class, score, area, detectedAt, pipeline, pipelineHash, detector, software string
	mapCaption, sentenceEnd, mapNote, before, after, noImage, acquired, sensor, captureKind, captureID, image     string

	artifact, key, sha256, size, mediaType, provenance, input, role, checksum, datetime string
	clip, quicklook, cog                                                                string

	time, actor, action, subject, detail, hash string

	reportText, submittedBy, submittedAt, late, deadline, requestedAt, proof                                                           string
	trigger, reason, requestedBy, visitRequestedAt, approvedBy, approvedAt, visitedBy, visitedAt, checklist, result, note, reviewNotes string

	rule, penalty, waived, removeFromList, publicDisclosure, policeReferral, decidedBy, decidedAt string

	auditChecked, auditIntact, auditBroken, auditCheckpoint string
	verifyText                                              []string
	page                                                    string

	values map[string]string
	// spaced shows an untranslated value's underscores as spaces ("new structure").
	spaced bool
}

// value translates a domain value (a class, a status, an action); unknown values are shown
// as they are (in English with spaces for underscores).
func (l *labels) value(v string) string {
	if t, ok := l.values[v]; ok {
		return t
	}
	if l.spaced {
		return strings.ReplaceAll(v, "_", " ")
	}
	return v
}

func (l *labels) yesNo(b bool) string {
	if b {
		return l.yes
	}
	return l.no
}

var labelsZH = labels{
	titleInspection: "非现场检查案卷（检查编号 %d）", titleEnterprise: "企业非现场监管证据案卷",
	generated: "生成时间", generatedBy: "生成人",
	secEnterprise: "一、企业基本信息", secInspection: "二、检查概况", secParcels: "三、地块、发现与影像",
	secArtifacts: "四、证据文件及其 SHA-256 与来源（STAC）", secTimeline: "五、审计时间线",
	secSelfCheck: "企业自查报告", secSiteVisit: "现场检查申请与审批", secDisposition: "处理决定",
	secInspections: "二、检查记录", secAuditCheck: "审计链校验", secVerify: "六、校验方法",
	name: "企业名称", uscc: "统一社会信用代码", permitNo: "排污许可证编号", listStatus: "正面清单状态",
	industry: "行业代码（GB/T 4754）", address: "地址", zone: "所在园区/区域", keyDischarger: "重点排污单位",
	complaint: "投诉举报渠道", barred: "不得再纳入清单", specialSupervision: "特殊监管对象", legacyUSCC: "早期信用代码（经审计的例外）",
	yes: "是", no: "否", none: "无",
	inspID: "检查编号", level: "检查层级", matter: "检查事项", status: "状态", listedAtOpening: "立案时是否在正面清单",
	openedBy: "立案人", openedAt: "立案时间", closedAt: "结案时间", closeNote: "结案说明", linkedTo: "认可其他层级检查",
	warnings: "预警", warningSource: "来源", severity: "严重程度", message: "内容",
	parcel: "地块", parcelName: "地块名称", finding: "发现", kind: "类型", class: "类别", score: "得分",
	area: "面积（平方米）", detectedAt: "发现时间（影像获取时间）", pipeline: "处理流程", pipelineHash: "流程哈希",
	detector: "检测算法", software: "软件版本",
	mapCaption: "地块（黄色）与发现（红色轮廓），底图为后时相快视图", sentenceEnd: "。", mapNote: "快视图按地块外包框放置；比例尺与指北针为近似值。",
	before: "前时相", after: "后时相", noImage: "无快视图", acquired: "获取时间", sensor: "传感器", captureKind: "数据类型",
	captureID: "影像编号", image: "图件",
	artifact: "文件", key: "存储键", sha256: "SHA-256", size: "大小（字节）", mediaType: "媒体类型",
	provenance: "来源（STAC derived_from）", input: "输入", role: "角色", checksum: "校验值", datetime: "时间",
	clip: "裁剪影像", quicklook: "快视图", cog: "COG",
	time: "时间", actor: "操作人", action: "操作", subject: "对象", detail: "详情", hash: "哈希",
	reportText: "报告正文", submittedBy: "提交人", submittedAt: "提交时间", late: "逾期提交", deadline: "自查期限",
	requestedAt: "要求自查时间", proof: "证明材料",
	trigger: "触发事由", reason: "理由", requestedBy: "申请人", visitRequestedAt: "申请时间", approvedBy: "批准人（执法机构负责人）", approvedAt: "批准时间",
	visitedBy: "检查人", visitedAt: "检查时间", checklist: "检查清单", result: "结果", note: "备注", reviewNotes: "审查意见",
	rule: "适用规则", penalty: "处罚", waived: "免予处罚（四.9）", removeFromList: "移出正面清单", publicDisclosure: "向社会公开",
	policeReferral: "移送公安机关", decidedBy: "决定人", decidedAt: "决定时间",
	auditChecked: "已重新计算审计条目数", auditIntact: "审计哈希链完整", auditBroken: "审计哈希链在以下序号处断裂：",
	auditCheckpoint: "校验点序号",
	verifyText: []string{
		"本案卷所列每个文件的 SHA-256 均可独立复核：从证据存储下载该文件（GET /api/v1/evidence-objects/{存储键}），在任意计算机上执行 sha256sum 文件名（Windows：certutil -hashfile 文件名 SHA256），结果应与本案卷所列值一致。",
		"服务端复核：POST /api/v1/evidence/verify 重新计算已记录文件的哈希；worker verify 对证据库和自查证明材料进行同样的复核。",
		"审计时间线中每条记录的哈希链接前一条记录，GET /api/v1/audit/verify 重新计算整个哈希链。",
		"本案卷文件本身作为证据保存，其 SHA-256 记录在审计日志（操作 casefile.generate）中，并随下载在响应头 X-Content-SHA256 中给出。",
	},
	page: "第 %d 页",
	values: map[string]string{
		// list statuses
		"proposed": "拟纳入", "notice": "公示中", "listed": "已纳入", "removed": "已移出", "expired": "已到期", "rejected": "未纳入",
		// finding kinds and classes
		offsite.FindingChange: "变化", offsite.FindingHotspot: "热异常点", offsite.FindingPlume: "羽流", offsite.FindingExceedance: "超标",
		"monitoring": "在线监测", "new_structure": "新增建（构）筑物", "earthwork": "土方开挖", "vegetation_loss": "植被减少",
		"water_change": "水体变化", "thermal_anomaly": "热异常", "water_plume": "水体排污羽流", "smoke_plume": "烟羽",
		// severities
		"high": "高", "medium": "中", "low": "低",
		// capture kinds
		offsite.KindSentinel2: "哨兵二号卫星", offsite.KindLandsat: "陆地卫星", offsite.KindDroneRGB: "无人机可见光",
		offsite.KindDroneMS: "无人机多光谱", offsite.KindBoatTrack: "无人船走航", offsite.KindVehicleTrack: "走航监测车",
		// inspection statuses
		string(enforce.InspOpen): "已立案", string(enforce.InspSelfCheckRequested): "已要求企业自查",
		string(enforce.InspReportSubmitted): "企业已提交自查报告", string(enforce.InspSiteVisitRequested): "已申请现场检查",
		string(enforce.InspSiteVisitApproved): "现场检查已批准", string(enforce.InspSiteVisitDone): "已完成现场检查",
		string(enforce.InspClosed): "已结案",
		// triggers and levels
		string(enforce.TriggerComplaint): "群众举报投诉", string(enforce.TriggerMediaReport): "媒体曝光",
		string(enforce.TriggerReferral): "上级交办", string(enforce.TriggerOffsiteAnomaly): "非现场检查发现异常",
		string(enforce.TriggerRoutine): "日常检查",
		string(enforce.LevelCounty):    "县级", string(enforce.LevelCity): "市级", string(enforce.LevelProvince): "省级", string(enforce.LevelNational): "国家级",
		// warning sources, checklist results
		enforce.WarningFinding: "遥感发现",
		"compliant":            "合规", "non_compliant": "不合规", "not_applicable": "不适用",
		// roles
		string(enforce.RoleAdmin): "管理员", string(enforce.RoleAnalyst): "分析员", string(enforce.RoleInspector): "检查员",
		string(enforce.RoleApprover): "审批人", string(enforce.RoleEnterprise): "企业", string(enforce.RoleSystem): "系统",
		// audit actions
		string(enforce.AuditInspectionOpened): "立案", string(enforce.AuditInspectionLinked): "关联其他层级检查",
		string(enforce.AuditInspectionWarningJoined): "新增预警", string(enforce.AuditInspectionWarningConfirmed): "预警再次确认",
		string(enforce.AuditInspectionRequestSelfCheck): "要求企业自查", string(enforce.AuditInspectionSubmitReport): "企业提交自查报告",
		string(enforce.AuditInspectionProofUpload): "上传证明材料", string(enforce.AuditInspectionProofDownload): "下载证明材料",
		string(enforce.AuditInspectionReview): "审查自查报告", string(enforce.AuditInspectionRequestSiteVisit): "申请现场检查",
		string(enforce.AuditInspectionApproveSiteVisit): "批准现场检查", string(enforce.AuditInspectionRecordSiteVisit): "记录现场检查",
		string(enforce.AuditInspectionClose): "结案", string(enforce.AuditDispositionWaived): "免予处罚",
		string(enforce.AuditDispositionStrict): "从严处罚", string(enforce.AuditEvidenceView): "查看证据",
		string(enforce.AuditEvidenceDownload): "下载证据", string(enforce.AuditCasefileGenerate): "生成案卷", string(enforce.AuditEvidenceExport): "导出地理数据",
		string(enforce.AuditEnterpriseCreate): "登记企业", string(enforce.AuditEnterpriseUpdate): "更新企业信息",
		string(enforce.AuditEnterpriseImport): "批量导入企业", string(enforce.AuditEnterpriseParcels): "更新地块",
		string(enforce.AuditEnterpriseUSCCOverride): "信用代码例外登记", string(enforce.AuditEnterpriseBarred): "禁止再纳入清单",
		string(enforce.AuditEnterpriseSpecialSupervision): "列为特殊监管对象", string(enforce.AuditHealthVisitRecord): "记录健康体检式帮扶",
		string(enforce.AuditListPropose): "拟纳入正面清单", string(enforce.AuditListRefused): "不予纳入", string(enforce.AuditListNotice): "公示",
		string(enforce.AuditListObjection): "公示异议", string(enforce.AuditListObjectionResolve): "处理异议",
		string(enforce.AuditListList): "纳入正面清单", string(enforce.AuditListRenew): "续期", string(enforce.AuditListRemove): "移出正面清单",
		string(enforce.AuditListExpire): "到期", string(enforce.AuditListExport): "导出清单",
	},
}

var labelsEN = labels{
	titleInspection: "Off-site inspection case file (inspection %d)", titleEnterprise: "Enterprise evidence case file",
	generated: "Generated at", generatedBy: "Generated by",
	secEnterprise: "1. Enterprise", secInspection: "2. Inspection", secParcels: "3. Parcels, findings and imagery",
	secArtifacts: "4. Evidence files with SHA-256 and provenance (STAC)", secTimeline: "5. Audited timeline",
	secSelfCheck: "Self-check report", secSiteVisit: "Site visit request and approval", secDisposition: "Disposition",
	secInspections: "2. Inspections", secAuditCheck: "Audit chain check", secVerify: "6. How to verify",
	name: "Name", uscc: "Unified social credit code (USCC)", permitNo: "Discharge permit number", listStatus: "Positive-list status",
	industry: "Industry (GB/T 4754)", address: "Address", zone: "Zone", keyDischarger: "Key discharger",
	complaint: "Complaint channel", barred: "Barred from the list", specialSupervision: "Special supervision", legacyUSCC: "Legacy USCC (audited override)",
	yes: "yes", no: "no", none: "none",
	inspID: "Inspection", level: "Level", matter: "Matter", status: "Status", listedAtOpening: "Listed when opened",
	openedBy: "Opened by", openedAt: "Opened at", closedAt: "Closed at", closeNote: "Close note", linkedTo: "Recognises inspection",
	warnings: "Warnings", warningSource: "Source", severity: "Severity", message: "Message",
	parcel: "Parcel", parcelName: "Parcel name", finding: "Finding", kind: "Kind", class: "Class", score: "Score",
	area: "Area (m²)", detectedAt: "Detected (acquisition time)", pipeline: "Pipeline", pipelineHash: "Pipeline SHA-256",
	detector: "Detector", software: "Software",
	mapCaption: "Parcel (yellow) and findings (red outlines) over the after quick-look", sentenceEnd: ". ", mapNote: "The quick-look is placed over the parcel's bounding box; scale bar and north arrow are approximate.",
	before: "Before", after: "After", noImage: "no quick-look", acquired: "Acquired", sensor: "Sensor", captureKind: "Capture kind",
	captureID: "Capture", image: "Image",
	artifact: "File", key: "Storage key", sha256: "SHA-256", size: "Size (bytes)", mediaType: "Media type",
	provenance: "Provenance (STAC derived_from)", input: "Input", role: "Role", checksum: "Checksum", datetime: "Time",
	clip: "Clip", quicklook: "Quick-look", cog: "COG",
	time: "Time", actor: "Actor", action: "Action", subject: "Subject", detail: "Detail", hash: "Hash",
	reportText: "Report text", submittedBy: "Submitted by", submittedAt: "Submitted at", late: "Late", deadline: "Deadline",
	requestedAt: "Self-check requested at", proof: "Proof documents",
	trigger: "Trigger", reason: "Reason", requestedBy: "Requested by", visitRequestedAt: "Requested at", approvedBy: "Approved by (head of the enforcement body)", approvedAt: "Approved at",
	visitedBy: "Visited by", visitedAt: "Visited at", checklist: "Checklist", result: "Result", note: "Note", reviewNotes: "Review notes",
	rule: "Rule applied", penalty: "Penalty", waived: "Penalty waived (4.9)", removeFromList: "Removed from the list", publicDisclosure: "Public disclosure",
	policeReferral: "Referred to the police", decidedBy: "Decided by", decidedAt: "Decided at",
	auditChecked: "Audit entries recomputed", auditIntact: "The audit hash chain is intact", auditBroken: "The audit hash chain breaks at sequence: ",
	auditCheckpoint: "Checkpoint sequence",
	verifyText: []string{
		"Every SHA-256 in this case file can be checked independently: download the file from evidence storage (GET /api/v1/evidence-objects/{storage key}) and run sha256sum FILE (Windows: certutil -hashfile FILE SHA256); the result must equal the value listed here.",
		"On the server: POST /api/v1/evidence/verify recomputes the hashes of recorded files; worker verify does the same over the evidence bucket and the self-check proofs.",
		"Each audit entry's hash chains to the previous one; GET /api/v1/audit/verify recomputes the whole chain.",
		"This case file is itself stored as evidence; its SHA-256 is recorded in the audit log (action casefile.generate) and sent with the download in the X-Content-SHA256 header.",
	},
	page: "page %d",
	values: map[string]string{string(enforce.LevelCounty): "county level", string(enforce.LevelCity): "city level",
		string(enforce.LevelProvince): "province level", string(enforce.LevelNational): "national level",
		offsite.KindSentinel2: "Sentinel-2", offsite.KindLandsat: "Landsat", offsite.KindDroneRGB: "drone RGB",
		offsite.KindDroneMS: "drone multispectral", offsite.KindBoatTrack: "unmanned boat track", offsite.KindVehicleTrack: "survey vehicle track"},
	spaced: true,
}
