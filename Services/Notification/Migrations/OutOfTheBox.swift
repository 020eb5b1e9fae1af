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

    /// The visit: a technician's offer, the member told who comes and when and that the
    /// crew is on the way, the store manager alerted when a crew stays incomplete, the
    /// member told when a booking's coupon was refused.
    static let dispatchTemplates: [(key: String, event: String, zh: String, en: String)] = [
        (
            "offer_made", "dispatch.offer.made",
            "【服务派单】{{recipientName}}，有一单 {{serviceType}} 上门服务（{{startsAt}}）待您接单，请在 {{expiresAt}} 前接受或拒绝。工单 {{orderId}}。",
            "New visit: {{recipientName}}, a {{serviceType}} visit at {{startsAt}} is offered to you. Accept or decline by {{expiresAt}}. Order {{orderId}}."
        ),
        (
            "order_dispatched", "dispatch.order.dispatched",
            "{{recipientName}}，您预约的 {{serviceType}} 上门服务已安排，技师将于 {{startsAt}} 上门。",
            "{{recipientName}}, your {{serviceType}} visit is arranged: the technicians come at {{startsAt}}."
        ),
        (
            "order_en_route", "dispatch.order.en_route",
            "{{recipientName}}，技师已出发，正在前往您家的路上。",
            "{{recipientName}}, the technicians are on their way to you."
        ),
        (
            "crew_incomplete", "dispatch.order.crew_incomplete",
            "【派单告警】{{recipientName}}，{{startsAt}} 的 {{serviceType}} 工单技师未配齐（{{reason}}），请手动指派。工单 {{orderId}}。",
            "Crew incomplete: {{recipientName}}, the {{serviceType}} visit at {{startsAt}} has no full crew ({{reason}}). Please assign by hand. Order {{orderId}}."
        ),
        (
            "booking_refused", "dispatch.booking.refused",
            "{{recipientName}}，您的预约未能确认：{{reason}}。请重新预约或联系您的导购。",
            "{{recipientName}}, your booking could not be confirmed: {{reason}}. Please book again or ask your guide."
        ),
    ]

    static let dispatchRules: [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)] =
        [
            ("offer-made", "dispatch.offer.made", "offer_made", "technician", "{sms,in_app}", "service", "immediately"),
            ("order-dispatched", "dispatch.order.dispatched", "order_dispatched", "member", memberChannels, "service", "immediately"),
            ("order-en-route", "dispatch.order.en_route", "order_en_route", "member", memberChannels, "service", "immediately"),
            ("crew-incomplete", "dispatch.order.crew_incomplete", "crew_incomplete", "store_manager", staffChannels, "critical", "immediately"),
            ("booking-refused", "dispatch.booking.refused", "booking_refused", "member", memberChannels, "service", "immediately"),
        ]

    static let couponTemplates: [(key: String, event: String, zh: String, en: String)] = [
        (
            "coupon_issued", "coupon.coupon.issued",
            "{{recipientName}}，您收到一张优惠券：{{title}}，有效期至 {{validUntil}}。券码 {{code}}。",
            "{{recipientName}}, you have a new coupon: {{title}}, valid until {{validUntil}}. Code {{code}}."
        ),
        (
            "coupon_expiring", "coupon.coupon.expiring",
            "{{recipientName}}，您的优惠券 {{title}} 将于 {{validUntil}} 到期，请尽快使用。券码 {{code}}。",
            "{{recipientName}}, your coupon {{title}} ends on {{validUntil}}; use it before then. Code {{code}}."
        ),
    ]

    static let couponRules: [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)] =
        [
            ("coupon-issued", "coupon.coupon.issued", "coupon_issued", "member", memberChannels, "service", "immediately"),
            ("coupon-expiring", "coupon.coupon.expiring", "coupon_expiring", "member", memberChannels, "service", "immediately"),
        ]

    /// An invitation to a store event asks the member to come: marketing, so it follows their
    /// consent and the marketing limits.
    static let storeEventTemplates: [(key: String, event: String, zh: String, en: String)] = [
        (
            "store_event_invited", "coupon.store_event.member_invited",
            "{{recipientName}}，诚邀您参加门店活动：{{name}}，{{startsAt}} 至 {{endsAt}}，到店签到有礼。",
            "{{recipientName}}, you are invited to {{name}} at your store, {{startsAt}} to {{endsAt}}; check in there for a gift."
        )
    ]

    static let storeEventRules:
        [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)] =
            [
                (
                    "store-event-invited", "coupon.store_event.member_invited", "store_event_invited", "member", memberChannels, "marketing",
                    "immediately"
                )
            ]

    /// Everything a fresh database starts with, over all of the migrations above.
    static var allTemplates: [(key: String, event: String, zh: String, en: String)] {
        templates + dispatchTemplates + couponTemplates + storeEventTemplates
    }
    static var allRules: [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)] {
        rules + dispatchRules + couponRules + storeEventRules
    }

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

    static var templatesSQL: String { templatesSQL(templates) }
    static var rulesSQL: String { rulesSQL(rules) }

    static func templatesSQL(_ templates: [(key: String, event: String, zh: String, en: String)]) -> String {
        "INSERT INTO templates (key, event_type, bodies) VALUES "
            + templates.map { template in
                "(\(literal(template.key)), \(literal(template.event)), jsonb_build_object('zh-CN', \(literal(template.zh)), 'en', \(literal(template.en))))"
            }.joined(separator: ", ")
    }

    static func rulesSQL(
        _ rules: [(id: String, event: String, template: String, recipient: String, channels: String, category: String, timing: String)]
    ) -> String {
        "INSERT INTO rules (id, event_type, template_key, recipient, channels, category, timing) VALUES "
            + rules.map { rule in
                "(\([rule.id, rule.event, rule.template, rule.recipient, rule.channels, rule.category, rule.timing].map(literal).joined(separator: ", ")))"
            }.joined(separator: ", ")
    }
}
