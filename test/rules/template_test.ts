import assert from "node:assert/strict";
import { compileTemplate, expandTemplate, TemplateError } from "../../lib/rules/template.ts";
import { hasPromtool, promtool, promtoolAlerts } from "./_promtool.ts";

/** Series values, as promtool's input_series notation writes them. */
const VALUES = [
  "0",
  "0.1",
  "1e6",
  "1234567.891",
  "NaN",
  "Inf",
  "-Inf",
  "-42.5",
  "92",
  "1e-7",
  "0.000123",
  "123456789012",
  "2.5",
  "1e21",
  "34560000",
  "0.875",
  "1700000000.123",
  "-0.0015",
  "1023.5",
  "4294967296",
];

/** Templates compared with Prometheus for every value above. */
const TEMPLATES = [
  // values and maps as Go prints them
  "{{ $value }}",
  "{{ .Value }}",
  "{{ $labels }}",
  "{{ .Labels }}",
  "{{ $externalLabels }}|{{ $externalLabels.cluster }}",
  '{{ $labels.instance }}|{{ .Labels.job }}|{{ $labels.missing }}|{{ index $labels "mountpoint" }}',
  "{{ . }}",
  // humanize family
  "{{ humanize $value }}",
  "{{ $value | humanize }}",
  "{{ humanize1024 $value }}",
  "{{ humanizeDuration $value }}",
  "{{ humanizePercentage $value }}",
  "{{ humanizeTimestamp $value }}",
  "{{ toTime $value }}",
  '{{ humanize "1234" }} {{ humanize 1234 }} {{ humanize 0.001234 }} {{ humanize -1234567 }}',
  '{{ humanize1024 "1048576" }} {{ humanize1024 1 }} {{ humanize1024 1025 }} {{ humanize1024 -2048 }}',
  "{{ humanizeDuration 90061 }} {{ humanizeDuration 3600 }} {{ humanizeDuration 61.5 }} {{ humanizeDuration 0.0015 }} {{ humanizeDuration -3600 }} {{ humanizeDuration 1.5 }}",
  "{{ humanizeDuration 31536000000 }} {{ humanizeDuration 1e-9 }}",
  "{{ humanizePercentage 0.1234 }} {{ humanizePercentage 1 }} {{ humanizePercentage 0 }} {{ humanizePercentage -0.5 }}",
  "{{ humanizeTimestamp 0 }} {{ humanizeTimestamp 1.5 }} {{ humanizeTimestamp 1700000000 }} {{ humanizeTimestamp -1.25 }}",
  '{{ humanizeTimestamp "1e12" }}',
  '{{ humanize "abc" }}',
  "{{ humanize true }}",
  // printf: Go fmt verbs
  '{{ printf "%.2f" $value }}',
  '{{ printf "%.0f|%5.1f|%-9.3f|%08.2f|%+.1f|% .1f" $value $value $value $value $value $value }}',
  '{{ printf "%v|%g|%.3g|%e|%.2e|%E|%G" $value $value $value $value $value $value $value }}',
  '{{ printf "%f|%F|%10.4f" $value $value $value }}',
  '{{ printf "%d" $value }}',
  '{{ printf "%s" $value }}',
  '{{ printf "%x" $value }}',
  '{{ printf "%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%q|%U" 42 42 42 42 42 255 255 8 5 65 65 65 }}',
  '{{ printf "%s|%10s|%-10s|%.2s|%q|%x|%X|% x" "abc" "abc" "abc" "abc" "a\\"b\\n" "hi" "hi" "hi" }}',
  '{{ printf "%v %v %v" true 1 "x" }}|{{ printf "%t" false }}|{{ printf "%%" }}',
  '{{ printf "%d %d" 1 }}|{{ printf "%d" 1 2 }}|{{ printf "%z" 1 }}|{{ printf "%!" }}',
  '{{ printf "%s on %s" $labels.instance $labels.job }}',
  '{{ printf "%v" $labels }}|{{ printf "%s" $labels }}',
  '{{ printf "%.1f%%" (humanize $value | len | print) }}',
  '{{ printf "%6.2f%%" 12.345 }}|{{ printf "%.2f" 2.675 }}|{{ printf "%.1f" 0.25 }}|{{ printf "%.0f" 0.5 }}|{{ printf "%.0f" 1.5 }}',
  '{{ printf "%g|%g|%g|%g" 100000.0 1000000.0 0.0001 0.00001 }}',
  '{{ printf "%T %T %T %T" $value 1 "a" $labels }}',
  // strings
  '{{ toUpper $labels.instance }}|{{ toLower "MiXeD" }}|{{ title "hello wORLD foo_bar x-y" }}',
  "{{ $labels.job | toUpper }}",
  '{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}',
  '{{ reReplaceAll ":[0-9]+$" "" $labels.instance }}|{{ reReplaceAll "(a)(b)?" "[${1}|$2|$1x|$$]" "abacus" }}',
  '{{ reReplaceAll "(?P<host>[^.]+)\\\\..*" "${host}" "web.example.org" }}|{{ reReplaceAll "a*" "-" "baaac" }}',
  '{{ match "^web" $labels.instance }}|{{ match "[0-9]{4}" $labels.instance }}',
  '{{ stripPort $labels.instance }}|{{ stripPort "[::1]:9090" }}|{{ stripPort "host" }}|{{ stripPort "a:b:c" }}',
  '{{ safeHtml "<b>x</b>" }}|{{ html "<a href=\'x\'>&</a>" }}|{{ urlquery "a b&c/d" }}|{{ js "it\'s <x>" }}',
  '{{ graphLink "up == 0" }}|{{ tableLink "rate(x[5m]) > 1" }}',
  '{{ print 1 2 "a" "b" 3 }}|{{ println "x" 1 }}|{{ print $value }}',
  '{{ (args 1 "b" $value).arg1 }}|{{ args 1 2 }}',
  // control flow, variables, comparisons
  "{{ if gt $value 80.0 }}high{{ else if gt $value 1.0 }}mid{{ else }}low{{ end }}",
  "{{ if gt $value 80 }}x{{ end }}",
  '{{ if eq $labels.job "node" }}node{{ end }}|{{ if ne $labels.job "x" }}ne{{ end }}|{{ if eq $labels.job "a" "node" }}any{{ end }}',
  '{{ if and (ge $value 0.0) (le $value 100.0) }}in{{ else }}out{{ end }}|{{ or $labels.missing "default" }}|{{ and 1 0 2 }}|{{ not $value }}',
  "{{ if lt $value 0.0 }}neg{{ end }}{{ if eq $value 0.0 }}zero{{ end }}",
  "{{ if eq $value 1 }}x{{ end }}",
  '{{ if lt "a" "b" }}lt{{ end }}|{{ if lt 1 2 }}ilt{{ end }}|{{ if lt true false }}x{{ end }}',
  '{{ len $labels }}|{{ len $labels.instance }}|{{ len "héllo" }}',
  "{{ len $value }}",
  "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
  "{{ range $labels }}[{{ . }}]{{ end }}|{{ range $v := $labels }}{{ $v }},{{ end }}",
  "{{ range $k, $v := $externalLabels }}{{ $k }}{{ else }}none{{ end }}|{{ range $labels.nope }}x{{ else }}empty{{ end }}",
  '{{ range $k, $v := $labels }}{{ if eq $k "job" }}{{ break }}{{ end }}{{ $k }},{{ end }}|{{ range $k, $v := $labels }}{{ if eq $k "case" }}{{ continue }}{{ end }}{{ $k }},{{ end }}',
  "{{ with $labels.instance }}inst={{ . }}{{ else }}noinst{{ end }}|{{ with $labels.missing }}x{{ else }}nomissing{{ end }}",
  '{{ $x := humanize $value }}{{ $x }}|{{ $y := 1 }}{{ if true }}{{ $y = 2 }}{{ end }}{{ $y }}|{{ $z := "a" }}{{ if true }}{{ $z := "b" }}{{ $z }}{{ end }}{{ $z }}',
  "{{ $v := $value }}{{ with $labels }}{{ $v }} {{ $.Value }} {{ .instance }}{{ end }}",
  '  a  {{- " b " -}}  c  |{{- /* comment */ -}}  |{{/* plain comment */}}|{{- 3 }} {{ -3 }}',
  "line1\n{{- if true }}\n  line2 {{ $labels.job }}\n{{- end }}\nline3",
  "{{ 1.5 }} {{ 1e3 }} {{ 0x1F }} {{ 'a' }} {{ true }} {{ \"s\" }} {{ `raw\\n` }} {{ 1_000 }}",
  // errors at execution time, as Prometheus reports them
  "{{ .Foo }}",
  "{{ $value.x }}",
  "{{ $labels.instance.x }}",
  "{{ index $labels 1 }}",
  "{{ toUpper 5 }}",
  "{{ humanize }}",
  '{{ reReplaceAll "(" "" "x" }}',
  "{{ printf }}",
];

const LABELS = [
  'instance="web-1:9100", job="node", mountpoint="/var/lib"',
  'instance="[::1]:9100", job="node", mountpoint="/"',
  'instance="db.example.org", job="postgres", mountpoint="/data"',
];

Deno.test({
  name: "templates: output identical to promtool test rules over a broad table",
  ignore: !hasPromtool,
  async fn() {
    const series = VALUES.map((value, i) => ({
      series: `oracle_value{case="${i}", ${LABELS[i % LABELS.length]}}`,
      values: value,
    }));
    const annotations = Object.fromEntries(
      TEMPLATES.map((t, i) => [`t${String(i).padStart(3, "0")}`, t]),
    );
    const externalLabels = { cluster: "prod-eu", region: "eu-west" };
    const got = await promtoolAlerts(
      {
        expr: "oracle_value",
        labels: { severity: "warning", summary_label: "{{ $labels.job }}-{{ $value | humanize }}" },
        annotations,
      },
      series,
      externalLabels,
    );
    assert.equal(got.length, VALUES.length);
    const compiled = Object.fromEntries(
      Object.entries(annotations).map((
        [k, t],
      ) => [k, compileTemplate(t, { name: "__alert_Oracle" })]),
    );
    const labelTemplate = compileTemplate("{{ $labels.job }}-{{ $value | humanize }}", {
      name: "__alert_Oracle",
    });
    const mismatches: string[] = [];
    let compared = 0;
    const failed = new Set<string>();
    for (const alert of got) {
      const caseIndex = Number(alert.labels.case);
      const seriesLabels: Record<string, string> = { __name__: "oracle_value" };
      for (const [k, v] of Object.entries(alert.labels)) {
        if (!["alertname", "severity", "summary_label"].includes(k)) seriesLabels[k] = v;
      }
      const value = Number(VALUES[caseIndex].replace(/^(-?)Inf$/, "$1Infinity"));
      const data = { labels: seriesLabels, externalLabels, value };
      const label = labelTemplate.expand(data, { onError: "text" });
      if (label !== alert.labels.summary_label) {
        mismatches.push(
          `value ${VALUES[caseIndex]} label: want ${
            JSON.stringify(alert.labels.summary_label)
          } got ${JSON.stringify(label)}`,
        );
      }
      for (const [name, template] of Object.entries(compiled)) {
        const want = alert.annotations[name] ?? "";
        const ours = template.expand(data, { onError: "text" });
        compared++;
        if (ours !== want && !failed.has(name)) {
          failed.add(name);
          mismatches.push(
            `value ${VALUES[caseIndex]} template ${JSON.stringify(template.source)}:\n  promtool ${
              JSON.stringify(want)
            }\n  opsbook  ${JSON.stringify(ours)}`,
          );
        }
      }
    }
    assert.ok(compared >= 1000, `compared only ${compared}`);
    assert.deepEqual(mismatches, []);
  },
});

/** Templates that must fail to load, in Prometheus and here, with Go's message. */
const BAD_TEMPLATES = [
  "{{ $value | nosuch }}",
  "{{ if }}",
  "{{ if true }}unclosed",
  "{{ end }}",
  "{{ $undefined }}",
  '{{ "unterminated }}',
  "{{ 3 | 4 }}",
  '{{ printf "%d" 1 ',
  "{{ ( 1 }}",
  "{{ 1 ) }}",
  "{{ else }}",
  "{{/* unclosed comment }}",
  "{{ 1x }}",
  "{{ @ }}",
];

Deno.test({
  name: "templates: load-time errors match promtool check rules",
  ignore: !hasPromtool,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "opsbook-promtool-" });
    try {
      const rules = BAD_TEMPLATES.map((t, i) => ({
        alert: `Bad${i}`,
        expr: "up",
        annotations: { a: t },
      }));
      await Deno.writeTextFile(
        `${dir}/bad.json`,
        JSON.stringify({ groups: [{ name: "g", rules }] }),
      );
      const { code, output } = await promtool(["check", "rules", "bad.json"], dir);
      assert.equal(code, 1);
      const mismatches: string[] = [];
      for (const [i, text] of BAD_TEMPLATES.entries()) {
        const line = output.split("\n").find((l) => l.includes(`"Bad${i}": annotation "a": `));
        assert.ok(line, `promtool accepted ${text}`);
        const want = line.slice(line.indexOf(': annotation "a": ') + ': annotation "a": '.length);
        const error = assertTemplateError(() => compileTemplate(text, { name: `__alert_Bad${i}` }));
        if (error.goMessage !== want) {
          mismatches.push(`${JSON.stringify(text)}: promtool ${want} | opsbook ${error.goMessage}`);
        }
      }
      assert.deepEqual(mismatches, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function assertTemplateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, String(error));
    return error;
  }
  assert.fail("expected a TemplateError");
}

Deno.test("templates: query functions are rejected at load time with the position", () => {
  const error = assertTemplateError(() => compileTemplate('x {{ query "up" | first | value }}'));
  assert.equal(error.kind, "parse");
  assert.equal(error.line, 1);
  assert.equal(error.column, 6);
  assert.match(error.message, /function "query" is not supported in opsbook/);
});

Deno.test("templates: positions are relative to the rule's own text", () => {
  const error = assertTemplateError(() => compileTemplate("a\nb {{ nosuch }}"));
  assert.equal(error.message, 'template: 2:6: function "nosuch" not defined');
  const exec = assertTemplateError(() =>
    expandTemplate("ok\n  {{ toUpper $value }}", { value: 1 })
  );
  assert.equal(exec.kind, "execute");
  assert.equal(exec.line, 2);
  assert.equal(exec.column, 14);
  assert.equal(exec.detail, "wrong type for value; expected string; got float64");
});

Deno.test("templates: compiled once, expanded many times with different data", () => {
  const t = compileTemplate("{{ $labels.instance }}={{ $value }}");
  assert.equal(t.expand({ labels: { instance: "a" }, value: 0.1 }), "a=0.1");
  assert.equal(t.expand({ labels: new Map([["instance", "b"]]), value: 1e6 }), "b=1e+06");
  assert.equal(t.expand(), "=0");
});
