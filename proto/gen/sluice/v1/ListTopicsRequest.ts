// Original file: proto/sluice/v1/admin.proto


export interface ListTopicsRequest {
}

export interface ListTopicsRequest__Output {
}
