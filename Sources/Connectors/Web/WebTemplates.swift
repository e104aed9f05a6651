import Mustache

/// The site's pages as Mustache templates, compiled into the binary so the hub ships as one
/// file. `{{x}}` escapes HTML; the admin's texts are inserted as escaped text, never as markup.
enum WebTemplates {
    static let head = """
        <!doctype html>
        <html lang="ru">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{page_title}} — {{site.title}}</title>
        <style>
        *{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f6f7fb}
        header,main,footer{max-width:720px;margin:0 auto;padding:16px}
        header a{color:#1d2430;text-decoration:none;font-weight:700}
        .card{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:12px 0}
        h1{font-size:1.6em;line-height:1.25;margin:.3em 0}.price{font-size:1.4em;font-weight:700}
        label{display:block;margin:14px 0 4px;font-weight:600}
        input[type=text],input[type=tel],input[type=email]{width:100%;padding:12px;border:1px solid #c7ccd6;border-radius:8px;font:inherit}
        .invalid input{border-color:#c62828}.error{color:#c62828;font-size:.9em;margin-top:4px}
        .consent{display:flex;gap:8px;align-items:flex-start;margin-top:16px}.consent label{margin:0;font-weight:400}
        button,.button{display:inline-block;margin-top:18px;padding:14px 22px;border:0;border-radius:8px;background:#2962ff;color:#fff;font:inherit;font-weight:700;text-decoration:none;cursor:pointer;width:100%;text-align:center}
        .text{white-space:pre-line}footer{color:#667;font-size:.9em}footer a{color:#667;margin-right:12px}
        </style>
        </head>
        <body>
        <header><a href="/">{{site.title}}</a></header>
        <main>
        """

    static let foot = """
        </main>
        <footer>
        <a href="/offer">Публичная оферта</a><a href="/privacy">Политика обработки персональных данных</a><a href="/contacts">Контакты</a>
        <p>{{site.seller_name}}, ИНН {{site.seller_inn}}</p>
        </footer>
        </body>
        </html>
        """

    static let landing = """
        {{> head}}
        <section class="card">
        <h1>{{site.product_name}}</h1>
        <p class="text">{{site.description}}</p>
        <p><b>Расписание:</b> {{site.schedule}}</p>
        <p class="price">{{site.price_text}}</p>
        </section>
        <form class="card" method="post" action="/" novalidate>
        <h2>Запись</h2>
        {{#form_error}}<p class="error">{{form_error}}</p>{{/form_error}}
        <div class="{{#errors.full_name}}invalid{{/errors.full_name}}">
        <label for="full_name">ФИО</label>
        <input type="text" id="full_name" name="full_name" value="{{values.full_name}}" autocomplete="name" maxlength="200" required>
        {{#errors.full_name}}<div class="error">{{errors.full_name}}</div>{{/errors.full_name}}
        </div>
        <div class="{{#errors.phone}}invalid{{/errors.phone}}">
        <label for="phone">Телефон</label>
        <input type="tel" id="phone" name="phone" value="{{values.phone}}" autocomplete="tel" placeholder="+7 999 123-45-67" maxlength="32" required>
        {{#errors.phone}}<div class="error">{{errors.phone}}</div>{{/errors.phone}}
        </div>
        <div class="{{#errors.city}}invalid{{/errors.city}}">
        <label for="city">Город</label>
        <input type="text" id="city" name="city" value="{{values.city}}" autocomplete="address-level2" maxlength="100" required>
        {{#errors.city}}<div class="error">{{errors.city}}</div>{{/errors.city}}
        </div>
        <div class="{{#errors.email}}invalid{{/errors.email}}">
        <label for="email">E-mail</label>
        <input type="email" id="email" name="email" value="{{values.email}}" autocomplete="email" maxlength="254" required>
        {{#errors.email}}<div class="error">{{errors.email}}</div>{{/errors.email}}
        </div>
        <div class="consent {{#errors.consent}}invalid{{/errors.consent}}">
        <input type="checkbox" id="consent" name="consent" value="on"{{#consent}} checked{{/consent}}>
        <label for="consent">Я принимаю условия <a href="/offer">публичной оферты</a> и даю согласие на обработку персональных данных по <a href="/privacy">политике</a> (152-ФЗ)</label>
        </div>
        {{#errors.consent}}<div class="error">{{errors.consent}}</div>{{/errors.consent}}
        <button type="submit" id="pay">Перейти к оплате</button>
        </form>
        {{> foot}}
        """

    static let document = """
        {{> head}}
        <article class="card">
        <h1>{{page_title}}</h1>
        <div class="text">{{body}}</div>
        </article>
        {{> foot}}
        """

    static let contacts = """
        {{> head}}
        <article class="card">
        <h1>Контакты</h1>
        <p><b>Продавец:</b> {{site.seller_name}}</p>
        <p><b>ИНН:</b> {{site.seller_inn}}{{#site.seller_ogrn}}<br><b>ОГРН/ОГРНИП:</b> {{site.seller_ogrn}}{{/site.seller_ogrn}}</p>
        {{#site.seller_address}}<p><b>Адрес:</b> {{site.seller_address}}</p>{{/site.seller_address}}
        <p><b>E-mail:</b> <a href="mailto:{{site.seller_email}}">{{site.seller_email}}</a></p>
        <p><b>Телефон:</b> {{site.seller_phone}}</p>
        </article>
        {{> foot}}
        """

    static let success = """
        {{> head}}
        <section class="card">
        <h1>Спасибо!</h1>
        <p>Когда оплата подтвердится, бот пришлёт вам личную ссылку для входа в закрытую группу. Ссылка работает только для вашего аккаунта Telegram.</p>
        {{#bot_link}}<a class="button" id="bot" href="{{bot_link}}">Открыть бота в Telegram</a>
        <p>Нажмите «Запустить» (Start) в чате с ботом. Если оплата ещё не подтвердилась, бот напишет, как только она пройдёт.</p>{{/bot_link}}
        {{^bot_link}}<p>Ссылку на бота эта страница показать не может. Напишите или позвоните нам (<a href="/contacts">контакты</a>) и назовите телефон, указанный при записи: мы пришлём ссылку.</p>{{/bot_link}}
        <p>Переход на эту страницу не подтверждает оплату: доступ открывается только после уведомления от платёжной системы.</p>
        </section>
        {{> foot}}
        """

    static let fail = """
        {{> head}}
        <section class="card">
        <h1>Оплата не завершена</h1>
        <p>Платёж не прошёл или был отменён. Деньги не списаны.</p>
        <a class="button" href="/">Попробовать ещё раз</a>
        </section>
        {{> foot}}
        """

    static let problem = """
        {{> head}}
        <section class="card">
        <h1>{{page_title}}</h1>
        <p>{{message}}</p>
        <a class="button" href="/">Вернуться к форме</a>
        </section>
        {{> foot}}
        """

    /// All templates, parsed once.
    static let library = HTMLTemplates.library([("head", head), ("foot", foot), ("landing", landing), ("document", document),
                                                ("contacts", contacts), ("success", success), ("fail", fail), ("problem", problem)])
}
