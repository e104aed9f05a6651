import Flows

extension ProdamusConnector: HealthReporting {
    /// Offline only: Prodamus has no API to ask; the secret's presence and the form URL.
    public func health() async -> [HealthCheck] {
        var checks: [HealthCheck] = [
            secretKey.isEmpty
                ? .error("secret", "no secret key (PRODAMUS_SECRET_KEY): payment notifications cannot be verified",
                         russian: "Не задан секретный ключ Prodamus (PRODAMUS_SECRET_KEY): уведомления об оплате не проверить.")
                : .ok("secret", "secret key is set", russian: "Секретный ключ Prodamus задан."),
            .ok("form", "payment page \(formURL); notifications at \(services.publicURL)\(webhookPath)",
                russian: "Страница оплаты: \(formURL); уведомления приходят на \(services.publicURL)\(webhookPath)."),
        ]
        if demoMode {
            checks.append(.warning("demo", "demo mode is on: payments are test payments",
                                   russian: "Включён демо-режим Prodamus: оплаты тестовые, деньги не списываются."))
        }
        return checks
    }
}
