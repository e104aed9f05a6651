/// Every text of the dashboard's interface, in Russian, in one place so it can be translated.
/// Templates read the labels as `{{t.key}}`; handlers use the messages.
enum AdminText {
    static let labels: [String: String] = [
        "brand": "Session Hub — админка",
        "nav_overview": "Обзор", "nav_members": "Участники", "nav_runs": "Запуски", "nav_flows": "Сценарии",
        "nav_connectors": "Коннекторы", "sign_out": "Выйти", "signed_in_as": "Вы вошли как",
        "login_title": "Вход", "login": "Логин", "password": "Пароль", "sign_in": "Войти",
        "overview_title": "Обзор", "period": "Период", "days_7": "7 дней", "days_30": "30 дней", "days_90": "90 дней",
        "chart_registrations": "Регистрации по дням", "chart_payments": "Оплаты по дням", "chart_revenue": "Выручка по дням, ₽",
        "funnel": "Воронка", "stage": "Этап", "count": "Количество", "conversion": "Конверсия",
        "stage_registered": "Зарегистрировались", "stage_paid": "Оплатили", "stage_joined": "Вошли в группу",
        "stage_active": "Сейчас в группе",
        "schedules": "Расписание (пост со ссылкой на сеанс и другие)", "no_schedules": "Сценариев по расписанию нет.",
        "next_run": "Следующий", "never_ran": "ещё не запускался",
        "health": "Состояние", "connector": "Коннектор", "type": "Тип", "state": "Состояние",
        "running": "работает", "not_running": "не настроен (выключен)",
        "health_ok": "в порядке", "health_warning": "внимание", "health_error": "ошибка",
        "health_all_ok": "Все проверки подключений пройдены.",
        "health_pending": "Подключения проверяются — обновите страницу через несколько секунд.",
        "failed_runs": "Неудачные запуски (требуют внимания)", "runs_by_status": "Запуски по статусам",
        "members_title": "Участники", "search": "Поиск", "search_hint": "имя, телефон, e-mail, @username",
        "status": "Статус", "any_status": "любой", "paid_from": "Оплачено с", "paid_to": "по", "sort": "Сортировка",
        "apply": "Показать", "export_csv": "Скачать CSV", "found": "Найдено",
        "name": "Имя", "phone": "Телефон", "email": "E-mail", "city": "Город", "username": "Telegram",
        "telegram_id": "Telegram ID", "registered_at": "Регистрация", "paid_at": "Оплата", "joined_at": "Вход в группу",
        "prev": "← Назад", "next": "Вперёд →", "page": "Страница", "nothing_found": "Ничего не найдено",
        "sort_created_desc": "сначала новые", "sort_created_asc": "сначала старые", "sort_name_asc": "по имени",
        "sort_paid_desc": "по дате оплаты", "sort_status_asc": "по статусу",
        "member_title": "Участник", "contacts": "Контакты", "payments": "Платежи", "invites": "Приглашения",
        "support": "Сообщения в поддержку", "order": "Заказ", "amount": "Сумма", "note": "Примечание", "created": "Создан",
        "link": "Ссылка", "expires": "Действует до", "direction": "Кто", "text": "Текст", "when": "Когда",
        "actions": "Действия", "mark_paid": "Отметить оплату вручную", "mark_paid_button": "Отметить оплату",
        "edit_contacts": "Изменить контакты", "save": "Сохранить",
        "resend_invite": "Отправить приглашение ещё раз", "remove_from_group": "Удалить из группы",
        "restore": "Вернуть доступ", "unbind": "Отвязать Telegram",
        "forget": "Удалить персональные данные", "forget_hint": "Имя, телефон, e-mail, город и username будут стёрты; платежи останутся для бухгалтерии.",
        "forget_confirm": "Да, удалить персональные данные", "audit": "Журнал действий", "admin": "Админ", "action": "Действие",
        "details": "Подробности", "none": "—",
        "runs_title": "Запуски", "flow": "Сценарий", "any_flow": "любой", "started": "Начат", "finished": "Завершён",
        "failed_step": "Шаг с ошибкой", "error": "Ошибка", "run_title": "Запуск", "event": "Событие", "steps": "Шаги",
        "step": "Шаг", "attempts": "Попыток", "result": "Результат", "retry": "Повторить",
        "flows_title": "Сценарии", "trigger": "Запуск по", "last_run": "Последний запуск", "run_now": "Запустить сейчас",
        "connectors_title": "Коннекторы", "back": "Назад",
    ]

    static let statusNames: [String: String] = [
        "registered": "зарегистрирован", "paid": "оплатил", "joined": "в группе", "left": "вышел", "removed": "удалён",
        "queued": "в очереди", "running": "выполняется", "completed": "выполнен", "failed": "ошибка",
        "pending": "ожидает", "cancelled": "отменён", "active": "активно", "used": "использовано", "revoked": "отозвано",
        "skipped": "пропущен", "retrying": "повторяется", "in": "клиент", "out": "бот", "operator": "оператор",
    ]

    static func status(_ raw: String) -> String { statusNames[raw] ?? raw }

    static let wrongPassword = "Неверный логин или пароль."
    static func locked(_ seconds: Int) -> String { "Слишком много неудачных попыток. Попробуйте снова через \(seconds) с." }
    static let csrfFailed = "Форма устарела или пришла не с этой страницы. Обновите страницу и повторите."
    static let notFound = "Не найдено."
    static let markedPaid = "Оплата отмечена."
    static let alreadyPaid = "У участника уже есть оплаченный платёж."
    static let badAmount = "Сумма должна быть числом, например 3000 или 3000.00."
    static let saved = "Сохранено."
    static let duplicateContact = "Такой телефон или Telegram ID уже есть у другого участника."
    static let staleForm = "Пока страница была открыта, данные участника изменились. Ниже — они сейчас; исправьте и сохраните ещё раз."
    static let nameRequired = "Имя не может быть пустым."
    static let badPhone = "Проверьте телефон: например +7 999 123-45-67."
    static let badEmail = "Проверьте e-mail: он должен выглядеть как name@example.ru."
    static let badCharacters = "В полях есть недопустимые символы."
    static let forgotten = "Персональные данные удалены."
    static let forgottenName = "Данные удалены"
    static let telegramMissing = "Telegram не настроен: задайте TELEGRAM_BOT_TOKEN и TELEGRAM_GROUP_ID и перезапустите хаб."
    static let noTelegramID = "Участник ещё не открыл бота: Telegram ID неизвестен."
    static let inviteSent = "Приглашение отправлено."
    static let removed = "Участник удалён из группы."
    static let restored = "Доступ возвращён: отправьте приглашение, чтобы участник снова вошёл в группу."
    static let notRemoved = "Участник не удалён: возвращать нечего."
    static let unbound = "Telegram отвязан: клиент снова откроет бота по своей ссылке со страницы «Спасибо» — с нового аккаунта."
    static func telegramFailed(_ error: String) -> String { "Telegram ответил ошибкой: \(error)" }
    static let retried = "Запуск поставлен в очередь повторно."
    static let notRetryable = "Повторить можно только запуск с ошибкой."
    static let queued = "Запуск поставлен в очередь."
    static let unknownFlow = "Такого сценария нет."
    static let unauthorized = "Нужно войти в админку."
    static func trigger(cron: String, timeZone: String) -> String { "расписанию «\(cron)» (\(timeZone))" }
    static func trigger(http path: String) -> String { "HTTP-запросу \(path)" }
    static let triggerRunFailed = "ошибке другого запуска"
    static func trigger(event: String) -> String { "событию \(event)" }
    static let never = "ещё не запускался"
    /// What `HUB_KEEP_RUNS` does, in words: whole days where it is days, hours otherwise.
    static func retention(_ keep: Duration?) -> String {
        guard let keep else { return "Завершённые запуски хранятся бессрочно (HUB_KEEP_RUNS)." }
        let hours = Int(keep.components.seconds / 3600)
        let span = hours % 24 == 0 ? count(hours / 24, "день", "дня", "дней") : count(hours, "час", "часа", "часов")
        return "Завершённые запуски хранятся \(span), затем удаляются вместе с шагами (HUB_KEEP_RUNS)."
    }

    /// `n` and the noun in the Russian form that number takes: 1 день, 2 дня, 5 дней, 21 день.
    static func count(_ n: Int, _ one: String, _ few: String, _ many: String) -> String {
        let form = n % 10 == 1 && n % 100 != 11 ? one : ((2...4).contains(n % 10) && !(12...14).contains(n % 100) ? few : many)
        return "\(n) \(form)"
    }

    static func healthProblems(errors: Int, warnings: Int) -> String {
        "Подключения требуют внимания: ошибок — \(errors), предупреждений — \(warnings). Подробности — в блоке «Состояние» ниже."
    }

    /// Messages shown after a redirect, by the code in `?notice=`: only these texts can appear.
    static let notices: [String: String] = [
        "paid": markedPaid, "saved": saved, "forgotten": forgotten, "invited": inviteSent, "removed": removed, "restored": restored, "unbound": unbound,
        "retried": retried, "queued": queued,
    ]
}
