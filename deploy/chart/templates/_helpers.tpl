{{- define "trustgate.name" -}}{{ .Release.Name }}{{- end -}}

{{- define "trustgate.labels" -}}
app.kubernetes.io/name: trustgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "trustgate.selector" -}}
app.kubernetes.io/name: trustgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "trustgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "trustgate.xdsHost" -}}
{{ include "trustgate.name" . }}-xds.{{ .Release.Namespace }}.svc
{{- end -}}

{{- define "trustgate.gatewayIdentity" -}}
{{ include "trustgate.name" . }}-gateway
{{- end -}}

{{- define "trustgate.securityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}
