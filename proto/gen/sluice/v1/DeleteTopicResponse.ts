// Original file: proto/sluice/v1/admin.proto


export interface DeleteTopicResponse {
}

export interface DeleteTopicResponse__Output {
}
