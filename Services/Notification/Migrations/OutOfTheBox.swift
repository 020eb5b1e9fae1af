/// The templates and rules a fresh installation starts with. Staff alerts about callback
/// tasks are critical (every staff channel, no quiet hours, no opt-out); the member's
/// messages are service or marketing messages and follow their preferences.
enum OutOfTheBox {
    static let templates: [(key: String, event: String, zh: String, en: String)] = [
        (
            "callback_task", "feedback.callback.created",
            "【售后回访】{{recipientName}}，您有一条新的会员投诉回访任务（{{category}}，{{severity}}），请在 {{dueAt}} 前回电。任务号 {{taskId}}。",
            "Aftercare: {{recipientName}}, a member complaint ({{category}}, {{severity}}) needs your call back by {{dueAt}}. Task {{taskId}}."
        ),
        (
            "callback_escalated", "feedback.callback.escalated",
            "【投诉升级】{{recipientName}}，一条投诉回访已超时并升级给您（{{fromLevel}} → {{toLevel}}），请立即回电。任务号 {{taskId}}。",
            "Escalated: {{recipientName}}, a complaint callback was not made in time and is now yours ({{fromLevel}} → {{toLevel}}). Please call the member now. Task {{taskId}}."
        ),
        (
            "callback_retry", "feedback.callback.retry_due",
            "【再次回访】{{recipientName}}，上次未联系上会员，请再次回电。任务号 {{taskId}}。",
            "Try again: {{recipientName}}, the member was not reached last time; please call again. Task {{taskId}}."
        ),
        (
            "welcome", "membership.member.registered",
            "{{recipientName}}，欢迎加入会员！您的专属导购会一直为您服务。",
            "Welcome, {{recipientName}}! Your personal guide is here for you long after your purchase."
        ),
        (
            "points_expiring", "membership.points.expiring",
            "{{recipientName}}，您有 {{points}} 积分将于 {{expiresAt}} 到期，请在此之前使用。",
            "{{recipientName}}, {{points}} of your points expire on {{expiresAt}}. Use them before then."
        ),
        (
            "tier_changed", "membership.tier.changed",
            "{{recipientName}}，您的会员等级已由 {{fromTier}} 变更为 {{toTier}}。",
            "{{recipientName}}, your membership tier changed from {{fromTier}} to {{toTier}}."
        ),
        (
            "birthday_month", "membership.birthday.month_started",
            "{{recipientName}}，生日月快乐！您的生日礼已放入账户，本月内有效。",
            "Happy birthday month, {{recipientName}}! Your birthday gift is in your account for the whole month."
        ),
        (
            "birthday_today", "membership.birthday.today",
            "{{recipientName}}，祝您生日快乐！",
            "Happy birthday, {{recipientName}}!"
        ),
        (
            "birthday_gift_lapsing", "membership.birthday.month_started",
            "{{recipientName}}，您的生日礼将于本月底失效，别忘了使用。",
            "{{recipientName}}, your birthday gift lapses at the end of this month. Don't miss it."
        ),
        (
            "review_request", "feedback.review.requested",
            "{{recipientName}}，上门服务已完成，请在 {{expiresAt}} 前为本次服务评分。",
            "{{recipientName}}, your service visit is complete. Please rate it before {{expiresAt}}."
        ),
    ]

    static let staffChannels = "{sms,official_account,in_app}"
    static let memberChannels = "{sms,in_app}"

    static let rules: [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)] = [
        ("callback-created", "feedback.callback.created", "callback_task", "assignee", staffChannels, "critical", "immediately"),
        ("callback-escalated", "feedback.callback.escalated", "callback_escalated", "assignee", staffChannels, "critical", "immediately"),
        ("callback-retry", "feedback.callback.retry_due", "callback_retry", "assignee", staffChannels, "critical", "immediately"),
        ("member-welcome", "membership.member.registered", "welcome", "member", memberChannels, "service", "immediately"),
        ("points-expiring", "membership.points.expiring", "points_expiring", "member", memberChannels, "service", "immediately"),
        ("tier-changed", "membership.tier.changed", "tier_changed", "member", memberChannels, "service", "immediately"),
        ("birthday-month", "membership.birthday.month_started", "birthday_month", "member", memberChannels, "marketing", "immediately"),
        ("birthday-today", "membership.birthday.today", "birthday_today", "member", memberChannels, "marketing", "immediately"),
        ("birthday-gift-lapsing", "membership.birthday.month_started", "birthday_gift_lapsing", "member", memberChannels, "marketing", "month_end"),
        ("review-requested", "feedback.review.requested", "review_request", "member", memberChannels, "service", "immediately"),
    ]

    private static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static var templatesSQL: String {
        "INSERT INTO templates (key, event_type, bodies) VALUES "
            + templates.map { template in
                "(\(literal(template.key)), \(literal(template.event)), jsonb_build_object('zh-CN', \(literal(template.zh)), 'en', \(literal(template.en))))"
            }.joined(separator: ", ")
    }

    static var rulesSQL: String {
        "INSERT INTO rules (id, event_type, template_key, recipient, channels, category, timing) VALUES "
            + rules.map { rule in
                "(\([rule.id, rule.event, rule.template, rule.recipient, rule.channels, rule.category, rule.timing].map(literal).joined(separator: ", ")))"
            }.joined(separator: ", ")
    }
}
