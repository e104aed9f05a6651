/// Every config key, input and output name of the database connector, declared once so the spec
/// and the code that reads the inputs cannot drift apart.
extension DatabaseConnector {
    enum Key {
        // Config.
        static let queries = "queries"
        static let orderPrefix = "order_prefix"

        // Members.
        static let id = "id"
        static let fullName = "full_name"
        static let phone = "phone"
        static let city = "city"
        static let email = "email"
        static let telegramID = "telegram_id"
        static let telegramUsername = "telegram_username"
        static let username = "username"
        static let status = "status"
        static let token = "token"
        static let createdAt = "created_at"
        static let updatedAt = "updated_at"
        static let paidAt = "paid_at"
        static let joinedAt = "joined_at"
        static let found = "found"
        static let created = "created"
        static let paid = "paid"
        static let joined = "joined"
        static let conflict = "conflict"

        // Payments.
        static let order = "order"
        static let orderID = "order_id"
        static let amount = "amount"
        static let currency = "currency"
        static let providerOrderID = "provider_order_id"
        static let payload = "payload"
        static let note = "note"
        static let newlyPaid = "newly_paid"
        static let mismatch = "mismatch"
        static let paidAgain = "paid_again"
        static let alreadyPaid = "already_paid"

        // Invites.
        static let memberID = "member_id"
        static let inviteLink = "invite_link"
        static let requestedAt = "requested_at"
        static let expiresAt = "expires_at"
        static let usedAt = "used_at"
        static let revokedLinks = "revoked_links"
        static let approve = "approve"
        static let reason = "reason"

        // Named queries.
        static let name = "name"
        static let params = "params"
        static let rows = "rows"
        static let count = "count"
        static let changed = "changed"
    }
}
