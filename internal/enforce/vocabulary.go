package enforce

import "slices"

// The enforcement vocabulary: every status, trigger, level, role and audit action is a named
// string type with its constants, and migration 0022 matches each with a CHECK constraint.
// ListStatus, InspectionStatus, Trigger and Level are declared beside the rules that use them.

// Role is what an actor may do: the role of an API token, or "system" for the workers.
type Role string

// Roles. A route lists the roles that may call it; anything else is refused (deny by
// default). RoleEnterprise reaches only its own records and its self-check uploads.
const (
	RoleAdmin      Role = "admin"
	RoleAnalyst    Role = "analyst"
	RoleInspector  Role = "inspector"
	RoleApprover   Role = "approver"
	RoleEnterprise Role = "enterprise"
	RolePublic     Role = "public" // no token needed
	RoleSystem     Role = "system" // the workers: pipeline warnings, nightly expiry
)

// AuditAction names what an audit entry records: "<resource>.<verb>".
type AuditAction string

// Audit actions.
const (
	AuditEnterpriseCreate             AuditAction = "enterprise.create"
	AuditEnterpriseUpdate             AuditAction = "enterprise.update"
	AuditEnterpriseImport             AuditAction = "enterprise.import"
	AuditEnterpriseParcels            AuditAction = "enterprise.parcels"
	AuditEnterpriseParcelRetire       AuditAction = "enterprise.parcel_retire"
	AuditEnterpriseUSCCOverride       AuditAction = "enterprise.uscc_override"
	AuditEnterpriseBarred             AuditAction = "enterprise.barred"
	AuditEnterpriseSpecialSupervision AuditAction = "enterprise.special_supervision"
	AuditEvidenceView                 AuditAction = "evidence.view"
	AuditEvidenceDownload             AuditAction = "evidence.download"
	AuditHealthVisitRecord            AuditAction = "health_visit.record"

	AuditListPropose          AuditAction = "list.propose"
	AuditListRefused          AuditAction = "list.refused"
	AuditListNotice           AuditAction = "list.notice"
	AuditListObjection        AuditAction = "list.objection"
	AuditListObjectionResolve AuditAction = "list.objection_resolve"
	AuditListList             AuditAction = "list.list"
	AuditListRenew            AuditAction = "list.renew"
	AuditListRemove           AuditAction = "list.remove"
	AuditListExpire           AuditAction = "list.expire"
	AuditListExport           AuditAction = "list.export"
	AuditListAdjustmentNotice AuditAction = "list.adjustment_notice"
	AuditListFilingSubmit     AuditAction = "list.filing_submit"
	AuditListFilingReceipt    AuditAction = "list.filing_receipt"

	AuditInspectionOpened           AuditAction = "inspection.opened"
	AuditInspectionLinked           AuditAction = "inspection.linked"
	AuditInspectionWarningJoined    AuditAction = "inspection.warning_joined"
	AuditInspectionWarningConfirmed AuditAction = "inspection.warning_confirmed"
	AuditInspectionRequestSelfCheck AuditAction = "inspection.request_self_check"
	AuditInspectionSubmitReport     AuditAction = "inspection.submit_report"
	AuditInspectionProofUpload      AuditAction = "inspection.proof_upload"
	AuditInspectionProofDownload    AuditAction = "inspection.proof_download"
	AuditInspectionReview           AuditAction = "inspection.review"
	AuditInspectionRequestSiteVisit AuditAction = "inspection.request_site_visit"
	AuditInspectionApproveSiteVisit AuditAction = "inspection.approve_site_visit"
	AuditInspectionRecordSiteVisit  AuditAction = "inspection.record_site_visit"
	AuditInspectionClose            AuditAction = "inspection.close"
	AuditInspectionAmendReport      AuditAction = "inspection.amend_report"
	AuditInspectionWithdrawReport   AuditAction = "inspection.withdraw_report"
	AuditInspectionRequestExtension AuditAction = "inspection.request_extension"
	AuditInspectionDecideExtension  AuditAction = "inspection.decide_extension"
	AuditIncidentReport             AuditAction = "incident.report"
	AuditIntakeRecord               AuditAction = "intake.record"
	AuditIntakeJoin                 AuditAction = "intake.join"
	AuditWebhookSubscribe           AuditAction = "webhook.subscribe"
	AuditWebhookUnsubscribe         AuditAction = "webhook.unsubscribe"
	// AuditWebhookGone records a subscription ended because its receiver answered 410 Gone.
	AuditWebhookGone AuditAction = "webhook.gone"
	// AuditNotificationRequeue records a failed delivery put back to be tried again.
	AuditNotificationRequeue AuditAction = "notification.requeue"
	// AuditNotificationEmail records a user's new e-mail address for notifications.
	AuditNotificationEmail AuditAction = "notification.email"

	AuditDispositionWaived AuditAction = "disposition.waived"
	AuditDispositionStrict AuditAction = "disposition.strict"
	AuditDrawCreate        AuditAction = "draw.create"

	AuditAgencyCreate          AuditAction = "agency.create"
	AuditAgencyUpdate          AuditAction = "agency.update"
	AuditUserCreate            AuditAction = "user.create"
	AuditUserUpdate            AuditAction = "user.update"
	AuditUserPassword          AuditAction = "user.password"
	AuditUserLogin             AuditAction = "user.login"
	AuditUserLogout            AuditAction = "user.logout"
	AuditUserLockout           AuditAction = "user.lockout"
	AuditTokenCreate           AuditAction = "token.create"
	AuditTokenRevoke           AuditAction = "token.revoke"
	AuditMonitoringPointCreate AuditAction = "monitoring_point.create"
	AuditMonitoringPointUpdate AuditAction = "monitoring_point.update"
	AuditMonitoringLimitSet    AuditAction = "monitoring_limit.set"
	AuditMonitoringLimitDelete AuditAction = "monitoring_limit.delete"
	AuditMonitoringSelfReport  AuditAction = "monitoring.self_report"
	// AuditMonitoringPointReleaseQuarantine records frames kept in quarantine released into a
	// point's series (those carrying its password).
	AuditMonitoringPointReleaseQuarantine AuditAction = "monitoring_point.release_quarantine"
	// AuditMonitoringPointRequestData records a request to a point's data logger to send
	// its data of a period again (HJ 212-2017 data request, e.g. CN 2061 hour data).
	AuditMonitoringPointRequestData AuditAction = "monitoring_point.request_data"
	// AuditCasefileGenerate records a case file (PDF or DOCX) stored as evidence.
	AuditCasefileGenerate AuditAction = "casefile.generate"
	// AuditEvidenceExport records a GIS export of findings or parcels: format, filter, count.
	AuditEvidenceExport AuditAction = "evidence.export"
)

// ListStatuses lists every list entry status.
var ListStatuses = []ListStatus{ListProposed, ListNotice, ListListed, ListRemoved, ListExpired, ListRejected}

// InspectionStatuses lists every inspection status; OpenInspectionStatuses those of an
// inspection not yet closed.
var (
	InspectionStatuses     = append(slices.Clone(OpenInspectionStatuses), InspClosed)
	OpenInspectionStatuses = []InspectionStatus{InspOpen, InspSelfCheckRequested, InspReportSubmitted,
		InspSiteVisitRequested, InspSiteVisitApproved, InspSiteVisitDone}
)

// Triggers lists every site visit trigger.
var Triggers = []Trigger{TriggerComplaint, TriggerMediaReport, TriggerReferral, TriggerOffsiteAnomaly, TriggerRoutine}

// Roles lists every role an actor may have; TokenRoles those an API token may have.
var (
	Roles      = append(slices.Clone(TokenRoles), RolePublic, RoleSystem)
	TokenRoles = []Role{RoleAdmin, RoleAnalyst, RoleInspector, RoleApprover, RoleEnterprise}
)

// AuditActions lists every audit action.
var AuditActions = []AuditAction{
	AuditEnterpriseCreate, AuditEnterpriseUpdate, AuditEnterpriseImport, AuditEnterpriseParcels, AuditEnterpriseParcelRetire,
	AuditEnterpriseUSCCOverride, AuditEnterpriseBarred, AuditEnterpriseSpecialSupervision,
	AuditEvidenceView, AuditEvidenceDownload, AuditHealthVisitRecord,
	AuditListPropose, AuditListRefused, AuditListNotice, AuditListObjection, AuditListObjectionResolve,
	AuditListList, AuditListRenew, AuditListRemove, AuditListExpire, AuditListExport,
	AuditListAdjustmentNotice, AuditListFilingSubmit, AuditListFilingReceipt,
	AuditInspectionOpened, AuditInspectionLinked, AuditInspectionWarningJoined, AuditInspectionWarningConfirmed,
	AuditInspectionRequestSelfCheck, AuditInspectionSubmitReport, AuditInspectionProofUpload,
	AuditInspectionProofDownload, AuditInspectionReview, AuditInspectionRequestSiteVisit,
	AuditInspectionApproveSiteVisit, AuditInspectionRecordSiteVisit, AuditInspectionClose,
	AuditDispositionWaived, AuditDispositionStrict, AuditDrawCreate,
	AuditAgencyCreate, AuditAgencyUpdate, AuditUserCreate, AuditUserUpdate, AuditUserPassword,
	AuditUserLogin, AuditUserLogout, AuditUserLockout, AuditTokenCreate, AuditTokenRevoke,
	AuditMonitoringPointCreate, AuditMonitoringPointUpdate, AuditMonitoringLimitSet, AuditMonitoringLimitDelete,
	AuditMonitoringSelfReport, AuditMonitoringPointReleaseQuarantine, AuditMonitoringPointRequestData,
	AuditCasefileGenerate, AuditEvidenceExport,
	AuditInspectionAmendReport, AuditInspectionWithdrawReport, AuditInspectionRequestExtension,
	AuditInspectionDecideExtension, AuditIncidentReport, AuditIntakeRecord, AuditIntakeJoin,
	AuditWebhookSubscribe, AuditWebhookUnsubscribe, AuditWebhookGone, AuditNotificationRequeue, AuditNotificationEmail,
}

// Names returns the values of a vocabulary as strings, for messages and schemas.
func Names[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
