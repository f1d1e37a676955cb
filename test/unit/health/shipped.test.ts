// Rules shipped with Tack for operators' custom resources (src/health/shipped/): one fixture per kind and state
// under test/fixtures/health/shipped/<group>_<Kind>-<state>[-<variant>].yaml, one row each with the verdict, a
// piece of its message and (in the comment) why. Each fixture is hand-written from the project's documented status
// API; its first line repeats the reason.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { load } from "js-yaml";
import type { KubeObject } from "../../../src/api/kube-object.ts";
import { assessHealth, compileHealthRules, groupKind, type HealthStatusCode } from "../../../src/health/index.ts";
import { shippedChecks, shippedKinds, shippedRuleErrors, shippedRuleSets } from "../../../src/health/shipped/index.ts";

const dir = new URL("../../fixtures/health/shipped/", import.meta.url);

// undefined: the shipped rule gives no verdict and defers to the next rung (the generic rule).
const cases: Array<[file: string, status: HealthStatusCode | undefined, message: string]> = [
  ["cert-manager.io_Certificate-healthy.yaml", "Healthy", "Ready=True (Ready): Certificate is up to date and has not expired"], // Ready=True
  ["cert-manager.io_Certificate-progressing.yaml", "Progressing", "Issuing=True (DoesNotExist)"], // Issuing=True wins over Ready=False: first issuance in flight
  ["cert-manager.io_Certificate-degraded.yaml", "Degraded", "Ready=False (Failed)"], // Ready=False and no issuance in flight: the last attempt failed
  ["cert-manager.io_Certificate-none.yaml", undefined, ""], // no status yet: the shipped rule gives no verdict (the generic rule decides)
  ["cert-manager.io_CertificateRequest-healthy.yaml", "Healthy", "Ready=True (Issued)"], // Ready=True
  ["cert-manager.io_CertificateRequest-progressing.yaml", "Progressing", "Ready=False (Pending)"], // Ready=False with reason Pending: waiting for the issuer
  ["cert-manager.io_CertificateRequest-degraded-denied.yaml", "Degraded", "Denied=True (policy.cert-manager.io)"], // Denied=True is terminal
  ["cert-manager.io_CertificateRequest-degraded.yaml", "Degraded", "Ready=False (Failed)"], // Ready=False with reason Failed
  ["cert-manager.io_Issuer-healthy.yaml", "Healthy", "Ready=True (KeyPairVerified)"], // Ready=True
  ["cert-manager.io_Issuer-degraded.yaml", "Degraded", "Ready=False (ErrGetKeyPair)"], // Ready=False
  ["cert-manager.io_ClusterIssuer-healthy.yaml", "Healthy", "Ready=True (ACMEAccountRegistered)"], // Ready=True
  ["cert-manager.io_ClusterIssuer-progressing.yaml", "Progressing", "Ready=Unknown"], // Ready=Unknown: still registering
  ["acme.cert-manager.io_Order-healthy.yaml", "Healthy", "status.state is valid"], // state valid
  ["acme.cert-manager.io_Order-degraded.yaml", "Degraded", "status.state is errored: Failed to finalize"], // state errored
  ["acme.cert-manager.io_Challenge-progressing.yaml", "Progressing", "status.state is pending"], // state pending
  ["argoproj.io_Rollout-healthy.yaml", "Healthy", "status.phase is Healthy"], // phase Healthy
  ["argoproj.io_Rollout-progressing.yaml", "Progressing", "status.phase is Progressing: more replicas need to be updated"], // phase Progressing
  ["argoproj.io_Rollout-suspended.yaml", "Suspended", "status.phase is Paused: CanaryPauseStep"], // phase Paused: a canary step waits
  ["argoproj.io_Rollout-degraded.yaml", "Degraded", "status.abort is true: RolloutAborted"], // status.abort: the analysis failed and the rollout was aborted
  ["argoproj.io_Rollout-degraded-deadline.yaml", "Degraded", "Progressing=False (ProgressDeadlineExceeded)"], // older controller without phase: progress deadline exceeded
  ["argoproj.io_AnalysisRun-healthy.yaml", "Healthy", "status.phase is Successful"], // phase Successful
  ["argoproj.io_AnalysisRun-degraded.yaml", "Degraded", "status.phase is Failed: Metric \"success-rate\" assessed Failed"], // phase Failed
  ["argoproj.io_AnalysisRun-progressing.yaml", "Progressing", "status.phase is Running"], // phase Running
  ["argoproj.io_AnalysisRun-suspended.yaml", "Suspended", "status.phase is Inconclusive"], // Inconclusive waits for a person
  ["argoproj.io_Experiment-healthy.yaml", "Healthy", "status.phase is Successful"], // phase Successful
  ["argoproj.io_Experiment-degraded.yaml", "Degraded", "status.phase is Error"], // phase Error
  ["argoproj.io_Workflow-healthy.yaml", "Healthy", "status.phase is Succeeded"], // phase Succeeded
  ["argoproj.io_Workflow-degraded.yaml", "Degraded", "status.phase is Failed: child 'main-1' failed"], // phase Failed
  ["argoproj.io_Workflow-progressing.yaml", "Progressing", "status.phase is Running"], // phase Running
  ["argoproj.io_Workflow-suspended.yaml", "Suspended", "spec.suspend is true"], // spec.suspend while running
  ["argoproj.io_CronWorkflow-suspended.yaml", "Suspended", "spec.suspend is true"], // spec.suspend
  ["argoproj.io_CronWorkflow-degraded.yaml", "Degraded", "SpecError=True"], // SpecError=True
  ["kustomize.toolkit.fluxcd.io_Kustomization-healthy.yaml", "Healthy", "Ready=True (ReconciliationSucceeded): Applied revision: main@sha1:4f1c"], // Ready=True
  ["kustomize.toolkit.fluxcd.io_Kustomization-progressing.yaml", "Progressing", "Reconciling=True (Progressing)"], // Reconciling=True
  ["kustomize.toolkit.fluxcd.io_Kustomization-progressing-generation.yaml", "Progressing", "status.observedGeneration 1 is behind generation 2"], // the controller has not seen the new spec
  ["kustomize.toolkit.fluxcd.io_Kustomization-degraded.yaml", "Degraded", "Stalled=True (BuildFailed)"], // Stalled=True: will not retry until the spec changes
  ["kustomize.toolkit.fluxcd.io_Kustomization-suspended.yaml", "Suspended", "spec.suspend is true"], // spec.suspend
  ["helm.toolkit.fluxcd.io_HelmRelease-healthy.yaml", "Healthy", "Ready=True (UpgradeSucceeded)"], // Ready=True
  ["helm.toolkit.fluxcd.io_HelmRelease-degraded.yaml", "Degraded", "Ready=False (UpgradeFailed)"], // Ready=False
  ["helm.toolkit.fluxcd.io_HelmRelease-progressing.yaml", "Progressing", "Ready=Unknown (Progressing)"], // Ready=Unknown
  ["source.toolkit.fluxcd.io_GitRepository-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["source.toolkit.fluxcd.io_HelmRepository-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["source.toolkit.fluxcd.io_OCIRepository-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["source.toolkit.fluxcd.io_Bucket-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["source.toolkit.fluxcd.io_HelmChart-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["source.toolkit.fluxcd.io_GitRepository-degraded.yaml", "Degraded", "Ready=False (GitOperationFailed)"], // Ready=False
  ["source.toolkit.fluxcd.io_OCIRepository-suspended.yaml", "Suspended", "spec.suspend is true"], // spec.suspend
  ["image.toolkit.fluxcd.io_ImageRepository-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["image.toolkit.fluxcd.io_ImagePolicy-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["image.toolkit.fluxcd.io_ImageUpdateAutomation-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["image.toolkit.fluxcd.io_ImagePolicy-degraded.yaml", "Degraded", "Ready=False (DependencyNotReady)"], // Ready=False
  ["notification.toolkit.fluxcd.io_Receiver-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["pkg.crossplane.io_Provider-healthy.yaml", "Healthy", "Healthy=True (HealthyPackageRevision)"], // Installed=True and Healthy=True
  ["pkg.crossplane.io_Provider-degraded.yaml", "Degraded", "Healthy=False (UnhealthyPackageRevision)"], // Healthy=False
  ["pkg.crossplane.io_Provider-progressing.yaml", "Progressing", "Installed=False (UnpackingPackage)"], // unpacking the package
  ["pkg.crossplane.io_Configuration-suspended.yaml", "Suspended", "Installed=False (InactivePackageRevision)"], // manual activation policy: the revision waits for a person
  ["pkg.crossplane.io_Function-healthy.yaml", "Healthy", "Healthy=True"], // Installed=True and Healthy=True
  ["apiextensions.crossplane.io_CompositeResourceDefinition-healthy.yaml", "Healthy", "Established=True (WatchingCompositeResource)"], // Established=True
  ["apiextensions.crossplane.io_CompositeResourceDefinition-degraded.yaml", "Degraded", "Offered=False"], // Offered=False: the claim CRD could not be served
  ["s3.aws.upbound.io_Bucket-healthy.yaml", "Healthy", "Ready=True (Available)"], // managed resource (group rule): Synced=True, Ready=True
  ["s3.aws.upbound.io_Bucket-degraded.yaml", "Degraded", "Synced=False (ReconcileError)"], // managed resource: Synced=False
  ["rds.aws.upbound.io_Instance-progressing.yaml", "Progressing", "Ready=False (Creating)"], // managed resource: Ready=False Creating
  ["ec2.aws.upbound.io_VPC-suspended.yaml", "Suspended", "reconciliation is paused"], // crossplane.io/paused annotation
  ["kubernetes.crossplane.io_Object-healthy.yaml", "Healthy", "Ready=True"], // managed resource under crossplane.io
  ["external-secrets.io_ExternalSecret-healthy.yaml", "Healthy", "Ready=True (SecretSynced)"], // Ready=True
  ["external-secrets.io_ExternalSecret-degraded.yaml", "Degraded", "Ready=False (SecretSyncedError)"], // Ready=False
  ["external-secrets.io_ClusterExternalSecret-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["external-secrets.io_SecretStore-healthy.yaml", "Healthy", "Ready=True (Valid)"], // Ready=True
  ["external-secrets.io_ClusterSecretStore-degraded.yaml", "Degraded", "Ready=False (InvalidProviderConfig)"], // Ready=False
  ["external-secrets.io_PushSecret-healthy.yaml", "Healthy", "Ready=True (Synced)"], // Ready=True
  ["bitnami.com_SealedSecret-healthy.yaml", "Healthy", "Synced=True"], // Synced=True
  ["bitnami.com_SealedSecret-degraded.yaml", "Degraded", "Synced=False (ErrUnsealFailed): no key could decrypt secret"], // Synced=False
  ["bitnami.com_SealedSecret-progressing.yaml", "Progressing", "status.observedGeneration 1 is behind generation 2"], // new spec not yet unsealed
  ["keda.sh_ScaledObject-healthy.yaml", "Healthy", "Ready=True (ScaledObjectReady)"], // Ready=True
  ["keda.sh_ScaledObject-degraded.yaml", "Degraded", "Ready=False (ScaledObjectCheckFailed)"], // Ready=False
  ["keda.sh_ScaledObject-degraded-fallback.yaml", "Degraded", "Fallback=True (FallbackExists)"], // scaler failing, fallback replicas in force
  ["keda.sh_ScaledObject-suspended.yaml", "Suspended", "Paused=True (ScaledObjectPaused)"], // Paused=True
  ["keda.sh_ScaledJob-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["keda.sh_ScaledJob-progressing.yaml", "Progressing", "Ready=Unknown"], // Ready=Unknown
  ["kafka.strimzi.io_Kafka-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["kafka.strimzi.io_Kafka-healthy-warning.yaml", "Healthy", "Ready=True"], // Ready=True with a Warning condition: advice only
  ["kafka.strimzi.io_Kafka-progressing.yaml", "Progressing", "NotReady=True (Creating)"], // NotReady=True with reason Creating: first deployment
  ["kafka.strimzi.io_Kafka-degraded.yaml", "Degraded", "NotReady=True (InvalidResourceException)"], // NotReady=True with an exception
  ["kafka.strimzi.io_Kafka-suspended.yaml", "Suspended", "reconciliation is paused"], // ReconciliationPaused=True
  ["kafka.strimzi.io_KafkaTopic-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["kafka.strimzi.io_KafkaTopic-degraded.yaml", "Degraded", "Ready=False (KafkaError)"], // Ready=False
  ["kafka.strimzi.io_KafkaUser-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["kafka.strimzi.io_KafkaUser-progressing.yaml", "Progressing", "status.observedGeneration 1 is behind generation 2"], // spec changed, not yet reconciled
  ["kafka.strimzi.io_KafkaConnect-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["kafka.strimzi.io_KafkaConnect-degraded.yaml", "Degraded", "NotReady=True (TimeoutException)"], // NotReady=True
  ["kafka.strimzi.io_KafkaConnector-degraded.yaml", "Degraded", "status.connectorStatus.connector.state is FAILED"], // the connector itself failed
  ["kafka.strimzi.io_KafkaConnector-suspended.yaml", "Suspended", "connector is stopped"], // spec.state stopped
  ["kafka.strimzi.io_KafkaRebalance-suspended.yaml", "Suspended", "waits for approval"], // ProposalReady: a person must approve
  ["monitoring.coreos.com_Prometheus-healthy.yaml", "Healthy", "Available=True"], // Available=True, Reconciled=True
  ["monitoring.coreos.com_Prometheus-degraded.yaml", "Degraded", "Available=Degraded (SomePodsNotReady)"], // Available has the documented status value Degraded
  ["monitoring.coreos.com_Prometheus-suspended.yaml", "Suspended", "spec.paused is true"], // spec.paused
  ["monitoring.coreos.com_Alertmanager-healthy.yaml", "Healthy", "Available=True"], // Available=True
  ["monitoring.coreos.com_Alertmanager-degraded.yaml", "Degraded", "Reconciled=False (ReconciliationFailed)"], // Reconciled=False
  ["monitoring.coreos.com_ServiceMonitor-none.yaml", undefined, ""], // no status: no shipped rule (left to the generic rule)
  ["postgresql.cnpg.io_Cluster-healthy.yaml", "Healthy", "status.phase is Cluster in healthy state"], // the healthy phase
  ["postgresql.cnpg.io_Cluster-progressing.yaml", "Progressing", "status.phase is Creating a new replica: Creating replica pg-3"], // a step the operator takes on its own
  ["postgresql.cnpg.io_Cluster-degraded.yaml", "Degraded", "status.phase is Not enough disk space"], // a phase that needs a person
  ["postgresql.cnpg.io_Cluster-suspended.yaml", "Suspended", "hibernated"], // cnpg.io/hibernation: on
  ["postgresql.cnpg.io_Backup-healthy.yaml", "Healthy", "status.phase is completed"], // phase completed
  ["postgresql.cnpg.io_Backup-degraded.yaml", "Degraded", "status.phase is failed: can't execute backup"], // phase failed
  ["serving.knative.dev_Service-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["serving.knative.dev_Service-degraded.yaml", "Degraded", "Ready=False (RevisionMissing)"], // Ready=False
  ["serving.knative.dev_Service-progressing.yaml", "Progressing", "Ready=Unknown"], // Ready=Unknown while reconciling
  ["serving.knative.dev_Route-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["serving.knative.dev_Configuration-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["serving.knative.dev_Revision-degraded.yaml", "Degraded", "Ready=False (ProgressDeadlineExceeded)"], // Ready=False
  ["eventing.knative.dev_Broker-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["eventing.knative.dev_Trigger-degraded.yaml", "Degraded", "Ready=False (BrokerDoesNotExist)"], // Ready=False
  ["apps.kruise.io_CloneSet-healthy.yaml", "Healthy", "3 of 3 replicas are updated and available"], // every replica updated and available
  ["apps.kruise.io_CloneSet-progressing.yaml", "Progressing", "1 of 3 updated replicas are ready"], // rollout under way
  ["apps.kruise.io_CloneSet-healthy-partition.yaml", "Healthy", "3 of 3 replicas"], // partition holds 2 back: expectedUpdatedReplicas is 1 and reached
  ["apps.kruise.io_CloneSet-suspended.yaml", "Suspended", "spec.updateStrategy.paused is true"], // rollout paused
  ["apps.kruise.io_StatefulSet-healthy.yaml", "Healthy", "3 pods are updated and ready"], // all updated and ready
  ["apps.kruise.io_StatefulSet-progressing.yaml", "Progressing", "Waiting for 1 pods to be ready"], // a pod not ready
  ["apps.kruise.io_DaemonSet-healthy.yaml", "Healthy", "2 of 2 pods are updated and available"], // all updated and available
  ["apps.kruise.io_BroadcastJob-degraded.yaml", "Degraded", "status.phase is failed"], // phase failed
  ["gateway.networking.k8s.io_GatewayClass-healthy.yaml", "Healthy", "Accepted=True"], // Accepted=True
  ["gateway.networking.k8s.io_Gateway-healthy.yaml", "Healthy", "Programmed=True (Programmed)"], // Accepted and Programmed
  ["gateway.networking.k8s.io_Gateway-progressing.yaml", "Progressing", "Programmed=Unknown (Pending)"], // the default status before a controller acts
  ["gateway.networking.k8s.io_Gateway-degraded.yaml", "Degraded", "Programmed=False (AddressNotAssigned)"], // Programmed=False
  ["gateway.networking.k8s.io_HTTPRoute-healthy.yaml", "Healthy", "accepted by 1 parent(s)"], // every parent Accepted=True
  ["gateway.networking.k8s.io_HTTPRoute-degraded.yaml", "Degraded", "parent web: ResolvedRefs=False (BackendNotFound)"], // a parent reports ResolvedRefs=False
  ["gateway.networking.k8s.io_HTTPRoute-degraded-notallowed.yaml", "Degraded", "parent web: Accepted=False (NotAllowedByListeners)"], // a parent refuses the route
  ["gateway.networking.k8s.io_HTTPRoute-none.yaml", undefined, ""], // no parents yet: no verdict
  ["gateway.networking.k8s.io_GRPCRoute-healthy.yaml", "Healthy", "accepted by 2 parent(s)"], // both parents accept
  ["gateway.networking.k8s.io_GRPCRoute-progressing.yaml", "Progressing", "waiting for every parent"], // one parent has not decided
  ["cluster.x-k8s.io_Cluster-healthy.yaml", "Healthy", "status.phase is Provisioned"], // Provisioned and Ready=True
  ["cluster.x-k8s.io_Cluster-progressing.yaml", "Progressing", "status.phase is Provisioning"], // phase Provisioning
  ["cluster.x-k8s.io_Cluster-degraded.yaml", "Degraded", "status.failureReason is InvalidConfiguration"], // failureReason set
  ["cluster.x-k8s.io_Cluster-suspended.yaml", "Suspended", "spec.paused is true"], // spec.paused
  ["cluster.x-k8s.io_Machine-healthy.yaml", "Healthy", "status.phase is Running"], // phase Running
  ["cluster.x-k8s.io_Machine-progressing.yaml", "Progressing", "status.phase is Provisioning"], // phase Provisioning
  ["cluster.x-k8s.io_Machine-degraded.yaml", "Degraded", "status.phase is Failed"], // phase Failed
  ["cluster.x-k8s.io_MachineDeployment-healthy.yaml", "Healthy", "status.phase is Running"], // phase Running
  ["cluster.x-k8s.io_MachineDeployment-progressing.yaml", "Progressing", "status.phase is ScalingUp"], // phase ScalingUp
  ["controlplane.cluster.x-k8s.io_KubeadmControlPlane-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["kubevirt.io_VirtualMachine-healthy.yaml", "Healthy", "status.printableStatus is Running"], // Running
  ["kubevirt.io_VirtualMachine-suspended.yaml", "Suspended", "status.printableStatus is Stopped"], // stopped on purpose
  ["kubevirt.io_VirtualMachine-progressing.yaml", "Progressing", "status.printableStatus is Starting"], // Starting
  ["kubevirt.io_VirtualMachine-degraded.yaml", "Degraded", "status.printableStatus is ErrorUnschedulable"], // cannot be scheduled
  ["kubevirt.io_VirtualMachineInstance-healthy.yaml", "Healthy", "status.phase is Running"], // Running
  ["kubevirt.io_VirtualMachineInstance-degraded.yaml", "Degraded", "status.phase is Failed"], // Failed
  ["kubevirt.io_VirtualMachineInstance-suspended.yaml", "Suspended", "Paused=True"], // paused by virtctl
  ["cdi.kubevirt.io_DataVolume-progressing.yaml", "Progressing", "status.phase is ImportInProgress"], // import running
  ["cdi.kubevirt.io_DataVolume-healthy.yaml", "Healthy", "status.phase is Succeeded"], // import done
  ["elasticsearch.k8s.elastic.co_Elasticsearch-healthy.yaml", "Healthy", "status.health is green"], // health green, phase Ready
  ["elasticsearch.k8s.elastic.co_Elasticsearch-progressing.yaml", "Progressing", "status.phase is ApplyingChanges"], // a change is being applied
  ["elasticsearch.k8s.elastic.co_Elasticsearch-progressing-yellow.yaml", "Progressing", "status.health is yellow"], // replicas not yet allocated
  ["elasticsearch.k8s.elastic.co_Elasticsearch-degraded.yaml", "Degraded", "status.health is red"], // health red
  ["kibana.k8s.elastic.co_Kibana-healthy.yaml", "Healthy", "status.health is green"], // health green
  ["kibana.k8s.elastic.co_Kibana-degraded.yaml", "Degraded", "status.health is red"], // health red
  ["agent.k8s.elastic.co_Agent-healthy.yaml", "Healthy", "status.health is green"], // health green
  ["sparkoperator.k8s.io_SparkApplication-healthy.yaml", "Healthy", "status.applicationState.state is COMPLETED"], // completed
  ["sparkoperator.k8s.io_SparkApplication-healthy-running.yaml", "Healthy", "status.applicationState.state is RUNNING"], // running
  ["sparkoperator.k8s.io_SparkApplication-progressing.yaml", "Progressing", "status.applicationState.state is SUBMITTED"], // submitted
  ["sparkoperator.k8s.io_SparkApplication-degraded.yaml", "Degraded", "status.applicationState.state is FAILED: driver container failed"], // failed
  ["sparkoperator.k8s.io_ScheduledSparkApplication-suspended.yaml", "Suspended", "spec.suspend is true"], // suspended schedule
  ["tekton.dev_PipelineRun-healthy.yaml", "Healthy", "Succeeded=True (Succeeded)"], // Succeeded=True
  ["tekton.dev_PipelineRun-progressing.yaml", "Progressing", "Succeeded=Unknown (Running)"], // Succeeded=Unknown
  ["tekton.dev_PipelineRun-degraded.yaml", "Degraded", "Succeeded=False (Failed)"], // Succeeded=False
  ["tekton.dev_PipelineRun-suspended.yaml", "Suspended", "spec.status is PipelineRunPending"], // held before start
  ["tekton.dev_TaskRun-degraded.yaml", "Degraded", "Succeeded=False (TaskRunTimeout)"], // timed out
  ["velero.io_Backup-healthy.yaml", "Healthy", "status.phase is Completed"], // Completed
  ["velero.io_Backup-degraded.yaml", "Degraded", "status.phase is PartiallyFailed"], // PartiallyFailed
  ["velero.io_Backup-progressing.yaml", "Progressing", "status.phase is InProgress"], // InProgress
  ["velero.io_Restore-degraded.yaml", "Degraded", "status.phase is FailedValidation"], // FailedValidation
  ["velero.io_Schedule-healthy.yaml", "Healthy", "status.phase is Enabled"], // Enabled
  ["velero.io_Schedule-suspended.yaml", "Suspended", "spec.paused is true"], // paused
  ["velero.io_BackupStorageLocation-degraded.yaml", "Degraded", "status.phase is Unavailable: BackupStorageLocation \"default\" is unavailable"], // Unavailable
  ["karpenter.sh_NodePool-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["karpenter.sh_NodePool-degraded.yaml", "Degraded", "Ready=False (NodeClassNotReady)"], // Ready=False
  ["karpenter.sh_NodeClaim-progressing.yaml", "Progressing", "Ready=Unknown"], // launching
  ["karpenter.k8s.aws_EC2NodeClass-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["install.istio.io_IstioOperator-healthy.yaml", "Healthy", "status.status is HEALTHY"], // HEALTHY
  ["install.istio.io_IstioOperator-degraded.yaml", "Degraded", "status.status is ERROR"], // ERROR
  ["sailoperator.io_Istio-healthy.yaml", "Healthy", "Ready=True"], // Reconciled and Ready
  ["sailoperator.io_Istio-degraded.yaml", "Degraded", "Reconciled=False (ReconcileError)"], // Reconciled=False
  ["pxc.percona.com_PerconaXtraDBCluster-healthy.yaml", "Healthy", "status.state is ready"], // ready
  ["pxc.percona.com_PerconaXtraDBCluster-progressing.yaml", "Progressing", "status.state is initializing"], // initializing
  ["psmdb.percona.com_PerconaServerMongoDB-degraded.yaml", "Degraded", "status.state is error"], // error
  ["psmdb.percona.com_PerconaServerMongoDB-suspended.yaml", "Suspended", "status.state is paused"], // paused
  ["pgv2.percona.com_PerconaPGCluster-healthy.yaml", "Healthy", "status.state is ready"], // ready
  ["ps.percona.com_PerconaServerMySQL-healthy.yaml", "Healthy", "status.state is ready"], // ready
  ["rabbitmq.com_RabbitmqCluster-healthy.yaml", "Healthy", "all replicas are ready"], // AllReplicasReady and ClusterAvailable
  ["rabbitmq.com_RabbitmqCluster-progressing.yaml", "Progressing", "AllReplicasReady=False"], // replicas coming up
  ["rabbitmq.com_RabbitmqCluster-degraded.yaml", "Degraded", "ReconcileSuccess=False (Error)"], // ReconcileSuccess=False
  ["rabbitmq.com_Queue-healthy.yaml", "Healthy", "Ready=True"], // Ready=True
  ["minio.min.io_Tenant-healthy.yaml", "Healthy", "status.currentState is Initialized"], // Initialized
  ["minio.min.io_Tenant-degraded.yaml", "Degraded", "status.healthStatus is red"], // red
  ["minio.min.io_Tenant-progressing.yaml", "Progressing", "status.currentState is Provisioning initial users"], // a step in progress
  ["lifecycle.keptn.sh_KeptnWorkloadVersion-healthy.yaml", "Healthy", "status.status is Succeeded"], // Succeeded
  ["lifecycle.keptn.sh_KeptnAppVersion-progressing.yaml", "Progressing", "status.status is Progressing"], // Progressing
  ["lifecycle.keptn.sh_KeptnTask-degraded.yaml", "Degraded", "status.status is Failed"], // Failed
  ["lifecycle.keptn.sh_KeptnEvaluation-healthy.yaml", "Healthy", "status.overallStatus is Succeeded"], // Succeeded
  ["work.karmada.io_ResourceBinding-healthy.yaml", "Healthy", "FullyApplied=True"], // Scheduled and FullyApplied
  ["work.karmada.io_ResourceBinding-degraded.yaml", "Degraded", "Scheduled=False (NoClusterFit)"], // no member cluster fits
  ["work.karmada.io_Work-healthy.yaml", "Healthy", "Applied=True"], // Applied
  ["cluster.karmada.io_Cluster-degraded.yaml", "Degraded", "Ready=False (ClusterNotReachable)"], // member unreachable
  ["flagger.app_Canary-healthy.yaml", "Healthy", "status.phase is Succeeded"], // Succeeded
  ["flagger.app_Canary-progressing.yaml", "Progressing", "status.phase is Progressing"], // Progressing
  ["flagger.app_Canary-degraded.yaml", "Degraded", "status.phase is Failed"], // Failed
  ["kyverno.io_ClusterPolicy-healthy.yaml", "Healthy", "Ready=True (Succeeded)"], // Ready=True
  ["projectcontour.io_HTTPProxy-healthy.yaml", "Healthy", "status.currentStatus is valid: Valid HTTPProxy"], // valid
  ["projectcontour.io_HTTPProxy-degraded.yaml", "Degraded", "status.currentStatus is invalid"], // invalid
];

function fixture(file: string): KubeObject {
  return load(readFileSync(new URL(file, dir), "utf8")) as KubeObject;
}

for (const [file, status, message] of cases) {
  test(`${file} → ${status ?? "no verdict from the shipped rule"}`, () => {
    const health = assessHealth(fixture(file));
    if (status === undefined) {
      assert.notEqual(health?.rule, "shipped", `the shipped rule decided: ${JSON.stringify(health)}`);
      return;
    }
    assert.equal(health?.rule, "shipped", `decided by ${health?.rule}: ${health?.message}`);
    assert.equal(health.status, status, `message was: ${health.message}`);
    assert.ok(health.message.includes(message), `message was: ${health.message}`);
  });
}

test("every shipped fixture has a row, and every row a fixture", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(files, cases.map(([f]) => f).sort());
});

test("every fixture names its kind in its file name (<group>_<Kind>-<state>)", () => {
  for (const [file] of cases) {
    const obj = fixture(file);
    const prefix = groupKind(obj).replace("/", "_");
    assert.ok(file.startsWith(`${prefix}-`), `${file} holds a ${groupKind(obj)}`);
  }
});

test("every shipped rule compiles", () => {
  assert.deepEqual(shippedRuleErrors(), []);
});

test("every shipped rule list is exercised by a fixture (directly or through a kind sharing the same list)", () => {
  const covered = new Set(cases.map(([file]) => groupKind(fixture(file)).replace("/", "_")));
  const lists = new Map<readonly unknown[], string[]>();
  for (const set of shippedRuleSets) {
    for (const [key, rules] of Object.entries(set)) lists.set(rules, [...(lists.get(rules) ?? []), key]);
  }
  const untested = [...lists.values()].filter((keys) => !keys.some((k) => covered.has(k)));
  assert.deepEqual(untested, []);
});

test("shippedKinds lists every exact kind and the Crossplane group rule, sorted", () => {
  const kinds = shippedKinds();
  assert.ok(kinds.length >= 40, `only ${kinds.length} kinds`);
  for (const kind of ["cert-manager.io/Certificate", "argoproj.io/Rollout", "kafka.strimzi.io/Kafka",
    "gateway.networking.k8s.io/HTTPRoute", "kubevirt.io/VirtualMachine", "*.upbound.io/*"]) {
    assert.ok(kinds.includes(kind), kind);
  }
  const exact = kinds.filter((k) => !k.startsWith("*"));
  assert.deepEqual(exact, [...exact].sort());
  for (const kind of exact) assert.ok(shippedChecks.has(kind), kind);
});

test("Crossplane managed resources are matched by group suffix, not by every group", () => {
  assert.ok(shippedChecks.has("ec2.aws.upbound.io/VPC"));
  assert.ok(shippedChecks.has("ec2.aws.m.upbound.io/VPC"));
  assert.ok(shippedChecks.has("helm.crossplane.io/Release"));
  assert.ok(!shippedChecks.has("upbound.io.example.com/Thing"));
  assert.ok(!shippedChecks.has("example.com/Widget"));
});

test("a user's CEL rule for a shipped kind wins over the shipped rule", () => {
  const certificate = fixture("cert-manager.io_Certificate-degraded.yaml");
  assert.equal(assessHealth(certificate)?.rule, "shipped");
  const { rules, errors } = compileHealthRules({
    "cert-manager.io_Certificate": `
- when: 'object.status.conditions.exists(c, c.type == "Ready" && c.status == "False")'
  status: Progressing
  message: our issuer retries; not a page
`,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(assessHealth(certificate, rules),
    { status: "Progressing", message: "our issuer retries; not a page", rule: "cel" });
  // A user's rule that matches nothing defers to the shipped rule, not past it.
  const healthy = fixture("cert-manager.io_Certificate-healthy.yaml");
  assert.equal(assessHealth(healthy, rules)?.rule, "shipped");
});

test("a user's Lua rule for a shipped kind wins over the shipped rule", () => {
  const kafka = fixture("kafka.strimzi.io_Kafka-degraded.yaml");
  const lua = new Map([["kafka.strimzi.io/Kafka", () => ({ status: "Healthy" as const, message: "from lua" })]]);
  assert.deepEqual(assessHealth(kafka, { checks: new Map(), lua }), { status: "Healthy", message: "from lua", rule: "lua" });
});

test("no shipped rule errs on partial or odd objects: it decides or defers, never Unknown from a failure", () => {
  const shapes: Array<Record<string, unknown>> = [
    {},
    { status: {} },
    { status: { conditions: [] } },
    { status: { conditions: [{}] } },
    { status: { conditions: [{ type: "Ready" }] } },
    { status: { conditions: [{ type: "Ready", status: "True", reason: 3, message: null }] } },
    { status: { phase: "" , state: "", health: "" } },
    { status: { parents: [{}] } },
    { status: { observedGeneration: "abc" }, metadata: { generation: 2 } },
    { status: { observedGeneration: 1 }, metadata: { generation: 2 } },
    { spec: { replicas: 2 }, status: { observedGeneration: 1 } },
  ];
  const failures: string[] = [];
  for (const kind of shippedKinds()) {
    const slash = kind.lastIndexOf("/");
    const group = kind.slice(0, slash).replace("*", "ec2.aws");
    const name = kind.slice(slash + 1).replace("*", "VPC");
    for (const shape of shapes) {
      const obj = { apiVersion: `${group}/v1`, kind: name, ...shape,
        metadata: { name: "x", namespace: "ns", ...(shape.metadata as object | undefined) } } as KubeObject;
      const health = assessHealth(obj);
      if (health?.rule === "shipped" && health.status === "Unknown" && /failed|budget/.test(health.message)) {
        failures.push(`${kind} ${JSON.stringify(shape)}: ${health.message}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});
