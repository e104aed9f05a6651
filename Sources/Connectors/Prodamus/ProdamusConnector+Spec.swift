import Flows

extension ProdamusConnector {
    static let paymentLinkAction = "payment_link"
    static let paidTrigger = "paid"
    static let notificationTrigger = "notification"

    /// The declaration `hub check`, `hub connectors` and the runtime all read.
    public static let spec = ConnectorSpec(
        name: "prodamus",
        summary: "Prodamus (payform.ru) payments: signed payment links and the verified payment webhook.",
        defaultInstance: "prodamus",
        config: [
            .required(Key.formURL, .string, "the shop's payment page URL, e.g. https://shop.payform.ru/", environment: "PRODAMUS_FORM_URL"),
            .required(Key.secretKey, .string, "the page's secret key (LK → Настройки); signs links, verifies webhooks",
                      secret: true, environment: "PRODAMUS_SECRET_KEY"),
            .optional(Key.sys, .string, "integration code agreed with Prodamus; needed for a per-link urlNotification"),
            .optional(Key.demoMode, .boolean, "send demo_mode=1 with every link (test payments)", default: false),
            .optional(Key.webhookPath, .string, "where the hub receives Prodamus notifications", default: "/hooks/prodamus"),
            .optional(Key.currency, .string, "currency sent with links: rub, usd, eur, kzt; empty = the page's own", default: "rub"),
        ],
        actions: [paymentLinkSpec],
        triggers: [
            TriggerSpec(name: paidTrigger,
                        summary: "A payment of one of our orders succeeded (verified webhook, payment_status success). "
                            + "Delivered once per Prodamus order; order_num is our order id.",
                        fields: eventFields,
                        example: """
                        on: prodamus.paid
                        steps:
                          - do: core.log
                            with: { message: "paid {{ event.order_num }} {{ event.sum }} {{ event.currency }}" }
                        """),
            TriggerSpec(name: notificationTrigger,
                        summary: "Every verified Prodamus notification: payments, cancellations, refusals, subscription "
                            + "charges and actions. Delivered once per notification, whatever its attempt number.",
                        fields: eventFields,
                        example: """
                        on: prodamus.notification
                        if: "{{ event.payment_status != 'success' }}"
                        steps:
                          - do: core.log
                            with: { message: "order {{ event.order_num }}: {{ event.payment_status_description }}", level: warning }
                        """),
        ]
    )

    static let paymentLinkSpec = ActionSpec(
        name: paymentLinkAction,
        summary: "Builds a signed payment page link (do=pay) for one product; computes only, sends nothing.",
        inputs: [
            .required(PaymentLinkInput.orderID, .string, "our order id; comes back in the webhook as order_num"),
            .required(PaymentLinkInput.productName, .string, "what the buyer pays for"),
            .required(PaymentLinkInput.price, .string, "price per unit as text with two decimals, e.g. \"3000.00\""),
            .optional(PaymentLinkInput.quantity, .integer, "number of units", default: 1),
            .optional(PaymentLinkInput.productSKU, .string, "our product id (products[0][sku])"),
            .optional(PaymentLinkInput.customerPhone, .string, "buyer's phone; skips the phone step on the page"),
            .optional(PaymentLinkInput.customerEmail, .string, "buyer's e-mail"),
            .optional(PaymentLinkInput.customerExtra, .string, "order description shown to the buyer and echoed in the webhook"),
            .optional(PaymentLinkInput.successURL, .string, "where the buyer lands after paying (not a payment confirmation)"),
            .optional(PaymentLinkInput.returnURL, .string, "where 'back' without paying leads"),
            .optional(PaymentLinkInput.notificationURL, .string,
                      "webhook URL for this payment; default: the hub's public URL + webhook_path; empty: none (use the LK setting)"),
        ],
        outputs: [.output("url", .string, "the signed payment page URL to send the buyer to")],
        hasSideEffects: false,
        example: """
        id: link
        do: prodamus.payment_link
        with:
          order_id: "{{ event.body.order }}"
          customer_phone: "{{ event.body.phone }}"
          customer_email: "{{ event.body.email }}"
          product_name: Сеанс 60 минут
          price: "3000.00"
          success_url: https://hub.example/success
          return_url: https://hub.example/
        """)

    /// What a Prodamus notification carries (§2.2, §2.3); every leaf is text as Prodamus sent it.
    static let eventFields: [FieldSpec] = [
        .output("order_id", .string, "Prodamus' own order id (the same as _payform_id); '0' for subscription actions"),
        .output("order_num", .string, "OUR order id, the link's order_id; empty for subscription auto-charges"),
        .output("sum", .string, "amount paid, two decimals, e.g. \"3000.00\""),
        .output("currency", .string, "rub, usd, eur or kzt (missing in old notifications)"),
        .output("customer_phone", .string, "buyer's phone, e.g. +79999999999"),
        .output("customer_email", .string, "buyer's e-mail"),
        .output("customer_extra", .string, "the link's customer_extra; may be empty"),
        .output("payment_status", .string, "success, order_canceled (by the buyer) or order_denied (refused)"),
        .output("payment_status_description", .string, "human-readable status, e.g. Успешная оплата"),
        .output("payment_type", .string, "payment method as text, e.g. Пластиковая карта Visa, MasterCard, МИР"),
        .output("payment_init", .string, "manual (the buyer paid), auto (subscription charge) or api"),
        .output("date", .string, "payment date, ISO 8601 with offset, e.g. 2020-07-27T12:31:01+03:00"),
        .output("domain", .string, "payment page domain, e.g. shop.payform.ru"),
        .output("commission", .string, "Prodamus commission, percent"),
        .output("commission_sum", .string, "Prodamus commission, amount"),
        .output("discount_value", .string, "discount applied, amount"),
        .output("products", .array, "the cart, one object per line", fields: [
            .output("name", .string, "product name"),
            .output("price", .string, "price per unit"),
            .output("quantity", .string, "number of units"),
            .output("sum", .string, "line total"),
            .output("sku", .string, "our product id, when the link had one"),
        ]),
        .output("attempt", .string, "Prodamus' sending attempt number (not part of the event's identity)"),
        .output("sys", .string, "integration code"),
        .output("vk_user_id", .string, "VK user, when known"),
        .output("subscription", .object, "subscription block of recurring-payment notifications; missing for one-off payments", fields: [
            .output("id", .string, "subscription (tariff) id, shared by all subscribers"),
            .output("profile_id", .string, "the subscriber's profile in Prodamus"),
            .output("type", .string, "action or notification"),
            .output("action_code", .string, "auto_payment, deactivation, reactivation or finish"),
            .output("notification_code", .string, "auto_payment or auto_payment_reminder"),
            .output("payment_num", .string, "number of the charge"),
            .output("active", .string, "1 when the subscription is active"),
            .output("cost", .string, "price per period"),
            .output("name", .string, "subscription name"),
            .output("error_code", .string, "why a charge failed, e.g. insufficient_funds"),
            .output("error", .string, "the failure as text"),
            .output("last_attempt", .string, "yes when no more charge attempts follow"),
            .output("action_reason", .string, "deactivated, reactivated or completed"),
            .output("active_manager", .string, "1 unless the shop switched it off"),
            .output("active_user", .string, "1 unless the subscriber switched it off"),
            .output("limit_autopayments", .string, "maximum number of auto-charges"),
            .output("autopayments_num", .string, "auto-charges made so far"),
            .output("autopayment", .string, "0 = the purchase, 1 = an auto-charge"),
            .output("first_payment_discount", .string, "discount on the first payment"),
            .output("next_payment_discount", .string, "discount on the next payments"),
            .output("next_payment_discount_num", .string, "how many payments get that discount"),
            .output("current_attempt", .string, "charge attempt number"),
            .output("max_attempts", .string, "charge attempts allowed"),
            .output("attempt_num", .string, "charge attempt number (older notifications)"),
            .output("date", .string, "date of this subscription event"),
            .output("payment_date", .string, "date of the charge"),
            .output("date_create", .string, "when the subscription was created"),
            .output("date_first_payment", .string, "first charge"),
            .output("date_last_payment", .string, "last charge"),
            .output("date_next_payment", .string, "when the next charge is due"),
            .output("date_next_payment_discount", .string, "when the discounted charge is due"),
        ]),
    ]
}
