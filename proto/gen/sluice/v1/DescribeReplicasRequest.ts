// Original file: proto/sluice/v1/admin.proto


export interface DescribeReplicasRequest {
}

export interface DescribeReplicasRequest__Output {
}
