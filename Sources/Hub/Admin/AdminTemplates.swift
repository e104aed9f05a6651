import Mustache
import WebConnector

/// The dashboard's pages as Mustache templates compiled into the binary. `{{x}}` escapes HTML,
/// so member data and run errors are always text; `{{{x}}}` is used only for SVG the server drew
/// from numbers and escaped labels. Labels come from `AdminText` as `{{t.key}}`.
enum AdminTemplates {
    static let head = """
        <!doctype html>
        <html lang="ru">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>{{title}} — {{t.brand}}</title>
        <style>
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f4f5f9}
        header{background:#1d2430;color:#fff;padding:8px 12px;display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center}
        header a{color:#fff;text-decoration:none}header .brand{font-weight:700;margin-right:auto}
        header form{margin:0}header button{background:none;border:1px solid #fff6;color:#fff;padding:3px 10px;border-radius:6px;font:inherit;cursor:pointer}
        main{max-width:1100px;margin:0 auto;padding:12px}
        .card{background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:10px 0}
        h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:.2em 0 .6em}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6ee;vertical-align:top}
        th{font-size:.85em;color:#556}td.num,th.num{text-align:right}
        form.inline{display:inline}label{display:block;font-size:.85em;color:#556;margin-top:6px}
        input,select,textarea{font:inherit;padding:7px;border:1px solid #c7ccd6;border-radius:6px;max-width:100%}
        .filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end}.filters>div{min-width:140px}
        button,.button{display:inline-block;padding:7px 14px;border:0;border-radius:6px;background:#2962ff;color:#fff;font:inherit;text-decoration:none;cursor:pointer;margin-top:6px}
        .danger{background:#c62828}.secondary{background:#667}
        .flash{background:#e8f5e9;border-left:4px solid #2e7d32;padding:8px 12px}.problem{background:#ffebee;border-left:4px solid #c62828;padding:8px 12px}
        .status{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef;font-size:.85em}
        .status-failed{background:#ffcdd2}.status-completed,.status-paid,.status-joined{background:#c8e6c9}
        pre{white-space:pre-wrap;word-break:break-word;background:#f7f7fa;padding:8px;border-radius:6px;font-size:.85em}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:10px}
        svg{width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#556}
        .pager{display:flex;gap:12px;align-items:center}
        td.checks{padding-left:20px}.health-ok{color:#2e7d32}.health-warning,.health-error{padding:4px 8px;margin:2px 0;border-radius:4px}
        .health-warning{background:#fff8e1;border-left:4px solid #f9a825}.health-error{background:#ffebee;border-left:4px solid #c62828}
        </style>
        </head>
        <body>
        {{#session}}
        <header>
        <a class="brand" href="/admin">{{t.brand}}</a>
        <a href="/admin">{{t.nav_overview}}</a><a href="/admin/members">{{t.nav_members}}</a><a href="/admin/runs">{{t.nav_runs}}</a>
        <a href="/admin/flows">{{t.nav_flows}}</a><a href="/admin/connectors">{{t.nav_connectors}}</a>
        <form method="post" action="/admin/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" title="{{t.signed_in_as}} {{admin}}">{{t.sign_out}}</button></form>
        </header>
        {{/session}}
        <main>
        {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
        {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
        """

    static let foot = """
        </main>
        </body>
        </html>
        """

    static let login = """
        {{> head}}
        <form class="card" method="post" action="/admin/login" style="max-width:360px;margin:40px auto">
        <h1>{{t.login_title}}</h1>
        <label for="login">{{t.login}}</label><input id="login" name="login" value="{{login}}" autocomplete="username" required style="width:100%">
        <label for="password">{{t.password}}</label><input id="password" name="password" type="password" autocomplete="current-password" required style="width:100%">
        <input type="hidden" name="next" value="{{next}}">
        <button type="submit">{{t.sign_in}}</button>
        </form>
        {{> foot}}
        """

    static let overview = """
        {{> head}}
        <h1>{{t.overview_title}}</h1>
        {{#health_problems}}<p class="health-{{health_level}}" role="alert"><a href="#health">{{health_summary}}</a></p>{{/health_problems}}
        <p>{{t.period}}: {{#periods}}<a href="/admin?days={{days}}">{{#current}}<b>{{/current}}{{label}}{{#current}}</b>{{/current}}</a> {{/periods}}</p>
        <div class="grid">
        {{#charts}}<section class="card"><h2>{{title}}</h2>{{{svg}}}</section>{{/charts}}
        </div>
        <section class="card"><h2>{{t.funnel}}</h2><div class="scroll"><table>
        <tr><th>{{t.stage}}</th><th class="num">{{t.count}}</th><th class="num">{{t.conversion}}</th></tr>
        {{#funnel}}<tr><td>{{label}}</td><td class="num">{{count}}</td><td class="num">{{conversion}}</td></tr>{{/funnel}}
        </table></div></section>
        <section class="card" id="schedules"><h2>{{t.schedules}}</h2>
        {{^has_schedules}}<p>{{t.no_schedules}}</p>{{/has_schedules}}
        {{#has_schedules}}<div class="scroll"><table>
        <tr><th>{{t.flow}}</th><th>{{t.last_run}}</th><th>{{t.next_run}}</th></tr>
        {{#schedules}}<tr data-flow="{{flow}}"><td><a href="/admin/runs?flow={{flow}}">{{flow}}</a></td>
        <td>{{#last}}<a href="/admin/runs/{{id}}">{{at}}</a> <span class="status status-{{status}}">{{label}}</span>{{/last}}{{^last}}{{t.never_ran}}{{/last}}</td>
        <td>{{next}}</td></tr>{{/schedules}}
        </table></div>{{/has_schedules}}
        </section>
        <section class="card" id="health"><h2>{{t.health}}</h2>
        {{#health_pending}}<p>{{t.health_pending}}</p>{{/health_pending}}
        {{^health_pending}}{{^health_problems}}<p class="health-ok">{{t.health_all_ok}}</p>{{/health_problems}}{{/health_pending}}
        <div class="scroll"><table>
        <tr><th>{{t.connector}}</th><th>{{t.type}}</th><th>{{t.state}}</th></tr>
        {{#connectors}}<tr><td>{{name}}</td><td>{{type}}</td><td>{{state}}</td></tr>
        {{#has_checks}}<tr><td colspan="3" class="checks">{{#checks}}<div class="health-{{level}}" data-check="{{name}}"><b>{{label}}</b>: {{text}}</div>{{/checks}}</td></tr>{{/has_checks}}{{/connectors}}
        </table></div>
        <p><a href="/admin/runs?status=failed">{{t.failed_runs}}: <b>{{failed_runs}}</b></a></p>
        <p>{{t.runs_by_status}}: {{#run_counts}}<span class="status status-{{status}}">{{label}}: {{count}}</span> {{/run_counts}}</p>
        </section>
        {{> foot}}
        """

    static let members = """
        {{> head}}
        <h1>{{t.members_title}}</h1>
        <form class="card filters" method="get" action="/admin/members">
        <div><label for="q">{{t.search}}</label><input id="q" name="q" value="{{filter.q}}" placeholder="{{t.search_hint}}"></div>
        <div><label for="status">{{t.status}}</label><select id="status" name="status"><option value="">{{t.any_status}}</option>
        {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></div>
        <div><label for="paid_from">{{t.paid_from}}</label><input id="paid_from" name="paid_from" type="date" value="{{filter.paid_from}}"></div>
        <div><label for="paid_to">{{t.paid_to}}</label><input id="paid_to" name="paid_to" type="date" value="{{filter.paid_to}}"></div>
        <div><label for="sort">{{t.sort}}</label><select id="sort" name="sort">
        {{#sorts}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sorts}}</select></div>
        <div><button type="submit">{{t.apply}}</button> <a class="button secondary" href="/admin/members.csv?{{query}}">{{t.export_csv}}</a></div>
        </form>
        <section class="card">
        <p>{{t.found}}: {{total}}</p>
        <div class="scroll"><table id="members">
        <tr><th>{{t.name}}</th><th>{{t.phone}}</th><th>{{t.email}}</th><th>{{t.username}}</th><th>{{t.status}}</th><th>{{t.registered_at}}</th><th>{{t.paid_at}}</th></tr>
        {{#rows}}<tr><td><a href="/admin/members/{{id}}">{{name}}</a></td><td>{{phone}}</td><td>{{email}}</td><td>{{username}}</td>
        <td><span class="status status-{{status}}">{{status_label}}</span></td><td>{{created}}</td><td>{{paid}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="7">{{t.nothing_found}}</td></tr>{{/rows}}
        </table></div>
        <p class="pager">{{#prev}}<a href="/admin/members?{{prev}}">{{t.prev}}</a>{{/prev}} <span>{{t.page}} {{page}} / {{pages}}</span> {{#next}}<a href="/admin/members?{{next}}">{{t.next}}</a>{{/next}}</p>
        </section>
        {{> foot}}
        """

    static let member = """
        {{> head}}
        <p><a href="/admin/members">{{t.back}}</a></p>
        {{#member}}
        <h1>{{t.member_title}}: {{name}}</h1>
        <section class="card"><h2>{{t.contacts}}</h2><div class="scroll"><table>
        <tr><th>{{t.name}}</th><td id="member-name">{{name}}</td></tr>
        <tr><th>{{t.phone}}</th><td>{{phone}}</td></tr><tr><th>{{t.email}}</th><td>{{email}}</td></tr>
        <tr><th>{{t.city}}</th><td>{{city}}</td></tr><tr><th>{{t.username}}</th><td>{{username}}</td></tr>
        <tr><th>{{t.telegram_id}}</th><td>{{telegram_id}}</td></tr>
        <tr><th>{{t.status}}</th><td><span class="status status-{{status}}">{{status_label}}</span></td></tr>
        <tr><th>{{t.registered_at}}</th><td>{{created}}</td></tr><tr><th>{{t.paid_at}}</th><td>{{paid}}</td></tr>
        <tr><th>{{t.joined_at}}</th><td>{{joined}}</td></tr>
        </table></div></section>
        {{/member}}
        <section class="card"><h2>{{t.payments}}</h2><div class="scroll"><table>
        <tr><th>{{t.order}}</th><th class="num">{{t.amount}}</th><th>{{t.status}}</th><th>{{t.created}}</th><th>{{t.paid_at}}</th><th>{{t.note}}</th></tr>
        {{#payments}}<tr><td>{{order}}</td><td class="num">{{amount}} {{currency}}</td><td>{{status_label}}</td><td>{{created}}</td><td>{{paid}}</td><td>{{note}}</td></tr>{{/payments}}
        </table></div></section>
        <section class="card"><h2>{{t.invites}}</h2><div class="scroll"><table>
        <tr><th>{{t.link}}</th><th>{{t.status}}</th><th>{{t.created}}</th><th>{{t.expires}}</th></tr>
        {{#invites}}<tr><td>{{link}}</td><td>{{status_label}}</td><td>{{created}}</td><td>{{expires}}</td></tr>{{/invites}}
        </table></div></section>
        <section class="card"><h2>{{t.support}}</h2><div class="scroll"><table>
        <tr><th>{{t.when}}</th><th>{{t.direction}}</th><th>{{t.text}}</th></tr>
        {{#messages}}<tr><td>{{created}}</td><td>{{direction}}</td><td>{{text}}</td></tr>{{/messages}}
        </table></div></section>
        {{#member}}
        <section class="card"><h2>{{t.actions}}</h2>
        <div class="grid">
        <form method="post" action="/admin/members/{{id}}/paid"><h2>{{t.mark_paid}}</h2>
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}">
        <label for="amount">{{t.amount}}</label><input id="amount" name="amount" inputmode="decimal" placeholder="3000.00">
        <label for="note">{{t.note}}</label><input id="note" name="note" required maxlength="500">
        <button type="submit">{{t.mark_paid_button}}</button></form>
        <form method="post" action="/admin/members/{{id}}/edit"><h2>{{t.edit_contacts}}</h2>
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><input type="hidden" name="version" value="{{version}}">
        <label for="e-name">{{t.name}}</label><input id="e-name" name="full_name" value="{{name}}" maxlength="200">
        <label for="e-phone">{{t.phone}}</label><input id="e-phone" name="phone" value="{{phone}}" maxlength="32">
        <label for="e-email">{{t.email}}</label><input id="e-email" name="email" value="{{email}}" maxlength="254">
        <label for="e-city">{{t.city}}</label><input id="e-city" name="city" value="{{city}}" maxlength="100">
        <label for="e-username">{{t.username}}</label><input id="e-username" name="telegram_username" value="{{username}}" maxlength="64">
        <button type="submit">{{t.save}}</button></form>
        <div>
        <form method="post" action="/admin/members/{{id}}/invite"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><button type="submit">{{t.resend_invite}}</button></form>
        <form method="post" action="/admin/members/{{id}}/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><button class="danger" type="submit">{{t.remove_from_group}}</button></form>
        {{#bound}}<form method="post" action="/admin/members/{{id}}/unbind"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><button type="submit">{{t.unbind}}</button></form>{{/bound}}
        {{#removed}}<form method="post" action="/admin/members/{{id}}/restore"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><button type="submit">{{t.restore}}</button></form>{{/removed}}
        <form method="post" action="/admin/members/{{id}}/forget"><h2>{{t.forget}}</h2><p>{{t.forget_hint}}</p>
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><label><input type="checkbox" name="confirm" value="yes" required> {{t.forget_confirm}}</label>
        <button class="danger" type="submit">{{t.forget}}</button></form>
        </div>
        </div></section>
        {{/member}}
        <section class="card"><h2>{{t.audit}}</h2><div class="scroll"><table>
        <tr><th>{{t.when}}</th><th>{{t.admin}}</th><th>{{t.action}}</th><th>{{t.details}}</th></tr>
        {{#audit}}<tr><td>{{at}}</td><td>{{admin}}</td><td>{{action}}</td><td>{{details}}</td></tr>{{/audit}}
        </table></div></section>
        {{> foot}}
        """

    static let runs = """
        {{> head}}
        <h1>{{t.runs_title}}</h1>
        <p><small>{{retention}}</small></p>
        <form class="card filters" method="get" action="/admin/runs">
        <div><label for="flow">{{t.flow}}</label><select id="flow" name="flow"><option value="">{{t.any_flow}}</option>
        {{#flows}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/flows}}</select></div>
        <div><label for="status">{{t.status}}</label><select id="status" name="status"><option value="">{{t.any_status}}</option>
        {{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></div>
        <div><button type="submit">{{t.apply}}</button></div>
        </form>
        <section class="card"><div class="scroll"><table>
        <tr><th>{{t.flow}}</th><th>{{t.status}}</th><th>{{t.started}}</th><th>{{t.finished}}</th><th>{{t.error}}</th></tr>
        {{#rows}}<tr><td><a href="/admin/runs/{{id}}">{{flow}}</a></td><td><span class="status status-{{status}}">{{status_label}}</span></td>
        <td>{{created}}</td><td>{{finished}}</td><td>{{error}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="5">{{t.nothing_found}}</td></tr>{{/rows}}
        </table></div></section>
        {{> foot}}
        """

    static let run = """
        {{> head}}
        <p><a href="/admin/runs">{{t.back}}</a></p>
        {{#run}}
        <h1>{{t.run_title}} {{flow}}</h1>
        <section class="card"><table>
        <tr><th>ID</th><td>{{id}}</td></tr>
        <tr><th>{{t.status}}</th><td><span class="status status-{{status}}">{{status_label}}</span></td></tr>
        <tr><th>{{t.started}}</th><td>{{created}}</td></tr><tr><th>{{t.finished}}</th><td>{{finished}}</td></tr>
        <tr><th>{{t.failed_step}}</th><td>{{failed_step}}</td></tr><tr><th>{{t.error}}</th><td>{{error}}</td></tr>
        </table>
        {{#retryable}}<form method="post" action="/admin/runs/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.retry}}</button></form>{{/retryable}}
        </section>
        <section class="card"><h2>{{t.event}}</h2><pre>{{event}}</pre></section>
        {{/run}}
        <section class="card"><h2>{{t.steps}}</h2><div class="scroll"><table>
        <tr><th>{{t.step}}</th><th>{{t.status}}</th><th class="num">{{t.attempts}}</th><th>{{t.result}}</th></tr>
        {{#steps}}<tr><td>{{id}}</td><td><span class="status status-{{status}}">{{status_label}}</span></td><td class="num">{{attempts}}</td>
        <td>{{#result}}<pre>{{result}}</pre>{{/result}}{{#error}}<p class="problem">{{error}}</p>{{/error}}</td></tr>{{/steps}}
        </table></div></section>
        {{> foot}}
        """

    static let flows = """
        {{> head}}
        <h1>{{t.flows_title}}</h1>
        <section class="card"><div class="scroll"><table>
        <tr><th>{{t.flow}}</th><th>{{t.trigger}}</th><th>{{t.last_run}}</th><th>{{t.status}}</th><th></th></tr>
        {{#rows}}<tr><td><a href="/admin/runs?flow={{encoded}}">{{name}}</a><br><small>{{file}}</small></td><td>{{trigger}}</td><td>{{last_run}}</td>
        <td>{{#status}}<span class="status status-{{status}}">{{status_label}}</span>{{/status}}</td>
        <td>{{#scheduled}}<form method="post" action="/admin/flows/{{encoded}}/run"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form" value="{{form}}"><button type="submit">{{t.run_now}}</button></form>{{/scheduled}}</td></tr>{{/rows}}
        </table></div></section>
        {{> foot}}
        """

    static let connectors = """
        {{> head}}
        <h1>{{t.connectors_title}}</h1>
        <section class="card"><pre>{{docs}}</pre></section>
        {{> foot}}
        """

    static let message = """
        {{> head}}
        <section class="card"><p><a href="/admin">{{t.back}}</a></p></section>
        {{> foot}}
        """

    /// All templates, parsed once.
    static let library = HTMLTemplates.library([("head", head), ("foot", foot), ("login", login), ("overview", overview),
                                                ("members", members), ("member", member), ("runs", runs), ("run", run),
                                                ("flows", flows), ("connectors", connectors), ("message", message)])
}
