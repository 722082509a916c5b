"""The official result types' field lists: which fields each openai-shaped object declares.

One line per type: ``Key | field field:Kind ...`` in the official declaration order, which is
the key order of ``model_dump()``. A field's kind says how its value is built:

- ``Name``: a nested object of that type;  ``[Kind]``: a list;  ``float``: ints become floats
  (the official models coerce ``1`` to ``1.0`` for float fields);
- ``{tag=Name,...}``: a union chosen by the value's ``type`` (an unknown tag keeps the raw data);
- ``name=alias``: the API key differs from the attribute (``async_`` is sent as ``async``).

A key with a dot (``chunk.Choice``) names a type whose class name (``Choice``) is shared with
another type. Types not listed here (tool payloads, moderation results, ...) stay plain
``dict``/``list`` data: attribute access on them is not offered, their keys are kept as sent.
"""

# ruff: noqa: E501  (one line per type reads better than wrapped field lists)

from __future__ import annotations

__all__ = ["RESPONSE_EVENTS", "SCHEMA"]

SCHEMA = """\
ChatCompletion | id choices:[Choice] created model object metadata moderation service_tier system_fingerprint usage:CompletionUsage
Choice | finish_reason index logprobs:ChoiceLogprobs message:ChatCompletionMessage
ChoiceLogprobs | content:[ChatCompletionTokenLogprob] refusal:[ChatCompletionTokenLogprob]
ChatCompletionTokenLogprob | token bytes logprob:float top_logprobs:[TopLogprob]
TopLogprob | token bytes logprob:float
ChatCompletionMessage | content refusal role annotations:[Annotation] audio:ChatCompletionAudio function_call:FunctionCall tool_calls:[{function=ChatCompletionMessageFunctionToolCall,custom=ChatCompletionMessageCustomToolCall}]
Annotation | type url_citation:AnnotationURLCitation
AnnotationURLCitation | end_index start_index title url
ChatCompletionAudio | id data expires_at transcript
FunctionCall | arguments name
ChatCompletionMessageFunctionToolCall | id function:Function type
Function | arguments name
ChatCompletionMessageCustomToolCall | id custom:Custom type
Custom | input name
CompletionUsage | completion_tokens prompt_tokens total_tokens completion_tokens_details:CompletionTokensDetails prompt_tokens_details:PromptTokensDetails
CompletionTokensDetails | accepted_prediction_tokens audio_tokens reasoning_tokens rejected_prediction_tokens text_tokens
PromptTokensDetails | audio_tokens cache_write_tokens cached_tokens image_tokens text_tokens
ChatCompletionChunk | id choices:[chunk.Choice] created model object moderation obfuscation service_tier system_fingerprint usage:CompletionUsage
chunk.Choice | delta:ChoiceDelta index finish_reason logprobs:chunk.ChoiceLogprobs
ChoiceDelta | audio:ChoiceDeltaAudio content function_call:ChoiceDeltaFunctionCall refusal role tool_calls:[ChoiceDeltaToolCall]
ChoiceDeltaAudio | id data expires_at transcript
ChoiceDeltaFunctionCall | arguments name
ChoiceDeltaToolCall | index id function:ChoiceDeltaToolCallFunction type
ChoiceDeltaToolCallFunction | arguments name
chunk.ChoiceLogprobs | content:[ChatCompletionTokenLogprob] refusal:[ChatCompletionTokenLogprob]
ParsedChatCompletion | id choices:[ParsedChoice] created model object metadata moderation service_tier system_fingerprint usage:CompletionUsage
ParsedChoice | finish_reason index logprobs:ChoiceLogprobs message:ParsedChatCompletionMessage
ParsedChatCompletionMessage | content refusal role annotations:[Annotation] audio:ChatCompletionAudio function_call:FunctionCall tool_calls:[ParsedFunctionToolCall] parsed
ParsedFunctionToolCall | id function:ParsedFunction type
ParsedFunction | arguments name parsed_arguments
CreateEmbeddingResponse | data:[Embedding] model object usage:Usage
Embedding | embedding:[float] index object
Usage | prompt_tokens total_tokens
Model | id created object owned_by shutdown_date
SyncPage | data:[Model] object
AsyncPage | data:[Model] object
Response | id access_programs created_at:float error:ResponseError incomplete_details:IncompleteDetails instructions metadata model object output:[{message=ResponseOutputMessage,function_call=ResponseFunctionToolCall,function_call_output=ResponseFunctionToolCallOutputItem,reasoning=ResponseReasoningItem,custom_tool_call=ResponseCustomToolCall}] parallel_tool_calls temperature:float tool_choice:{allowed_tools=ToolChoiceAllowed,file_search=ToolChoiceTypes,function=ToolChoiceFunction,custom=ToolChoiceCustom} tools:[{function=FunctionTool}] top_p:float background completed_at:float conversation:Conversation image input_transformations max_output_tokens max_tool_calls moderation previous_response_id prompt:ResponsePrompt prompt_cache_diagnostics prompt_cache_key prompt_cache_options prompt_cache_retention reasoning:Reasoning safety_identifier service_tier status text:ResponseTextConfig tool_usage top_logprobs truncation usage:ResponseUsage user
ResponseError | code message misalignment param type
IncompleteDetails | reason
ResponseOutputMessage | id content:[{output_text=ResponseOutputText,refusal=ResponseOutputRefusal}] role status type phase
ResponseOutputText | annotations:[{file_citation=AnnotationFileCitation,url_citation=text.AnnotationURLCitation,container_file_citation=AnnotationContainerFileCitation,file_path=AnnotationFilePath}] text type logprobs:[Logprob]
AnnotationFileCitation | file_id filename index type
text.AnnotationURLCitation | end_index start_index title type url
AnnotationContainerFileCitation | container_id end_index file_id filename start_index type
AnnotationFilePath | file_id index type
Logprob | token bytes logprob:float top_logprobs:[LogprobTopLogprob]
LogprobTopLogprob | token bytes logprob:float
ResponseOutputRefusal | refusal type
ResponseFunctionToolCall | arguments call_id name type id async_=async caller namespace status
ResponseFunctionToolCallOutputItem | id output status type call_id caller created_by name namespace
ResponseReasoningItem | id summary:[Summary] type content:[Content] encrypted_content status
Summary | text type
Content | text type
FunctionTool | name parameters strict type allowed_callers async_=async defer_loading description output_schema
ResponseCustomToolCall | call_id input name type id async_=async caller namespace
ToolChoiceAllowed | mode tools type
ToolChoiceTypes | type
ToolChoiceFunction | name type
ToolChoiceCustom | name type
Conversation | id
ResponsePrompt | id variables version
Reasoning | context effort generate_summary mode summary
ResponseTextConfig | format:{text=ResponseFormatText,json_schema=ResponseFormatTextJSONSchemaConfig,json_object=ResponseFormatJSONObject} verbosity
ResponseFormatText | type
ResponseFormatTextJSONSchemaConfig | name schema_=schema type description strict
ResponseFormatJSONObject | type
ResponseUsage | input_tokens input_tokens_details:InputTokensDetails output_tokens output_tokens_details:OutputTokensDetails total_tokens
InputTokensDetails | cache_write_tokens cached_tokens cache_write_tokens_details
OutputTokensDetails | reasoning_tokens
ParsedResponse | id access_programs created_at:float error:ResponseError incomplete_details:IncompleteDetails instructions metadata model object output:[{message=ParsedResponseOutputMessage,function_call=ParsedResponseFunctionToolCall,reasoning=ResponseReasoningItem,function_call_output=ResponseFunctionToolCallOutputItem,custom_tool_call=ResponseCustomToolCall}] parallel_tool_calls temperature:float tool_choice:{allowed_tools=ToolChoiceAllowed,file_search=ToolChoiceTypes,function=ToolChoiceFunction,custom=ToolChoiceCustom} tools:[{function=FunctionTool}] top_p:float background completed_at:float conversation:Conversation image input_transformations max_output_tokens max_tool_calls moderation previous_response_id prompt:ResponsePrompt prompt_cache_diagnostics prompt_cache_key prompt_cache_options prompt_cache_retention reasoning:Reasoning safety_identifier service_tier status text:ResponseTextConfig tool_usage top_logprobs truncation usage:ResponseUsage user
ParsedResponseOutputMessage | id content:[{output_text=ParsedResponseOutputText,refusal=ResponseOutputRefusal}] role status type phase
ParsedResponseOutputText | annotations:[{file_citation=AnnotationFileCitation,url_citation=text.AnnotationURLCitation,container_file_citation=AnnotationContainerFileCitation,file_path=AnnotationFilePath}] text type logprobs:[Logprob] parsed
ParsedResponseFunctionToolCall | arguments call_id name type id async_=async caller namespace status parsed_arguments
ResponseAudioDeltaEvent | delta sequence_number type
ResponseAudioDoneEvent | sequence_number type
ResponseAudioTranscriptDeltaEvent | delta sequence_number type
ResponseAudioTranscriptDoneEvent | sequence_number type
ResponseCodeInterpreterCallCodeDeltaEvent | delta item_id output_index sequence_number type
ResponseCodeInterpreterCallCodeDoneEvent | code item_id output_index sequence_number type
ResponseCodeInterpreterCallCompletedEvent | item_id output_index sequence_number type
ResponseCodeInterpreterCallInProgressEvent | item_id output_index sequence_number type
ResponseCodeInterpreterCallInterpretingEvent | item_id output_index sequence_number type
ResponseCompactionCompactingEvent | item_id output_index sequence_number type
ResponseCompletedEvent | response:Response sequence_number type
ResponseContentPartAddedEvent | content_index item_id output_index part:{output_text=ResponseOutputText,refusal=ResponseOutputRefusal,reasoning_text=PartReasoningText} sequence_number type
PartReasoningText | text type
ResponseContentPartDoneEvent | content_index item_id output_index part:{output_text=ResponseOutputText,refusal=ResponseOutputRefusal,reasoning_text=part_done.PartReasoningText} sequence_number type
part_done.PartReasoningText | text type
ResponseCreatedEvent | response:Response sequence_number type
ResponseErrorEvent | code message param sequence_number type
ResponseFileSearchCallCompletedEvent | item_id output_index sequence_number type
ResponseFileSearchCallInProgressEvent | item_id output_index sequence_number type
ResponseFileSearchCallSearchingEvent | item_id output_index sequence_number type
ResponseFunctionCallArgumentsDeltaEvent | delta item_id output_index sequence_number type
ResponseFunctionCallArgumentsDoneEvent | arguments item_id output_index sequence_number type
ResponseShellCallCommandAddedEvent | command command_index output_index sequence_number type
ResponseShellCallCommandDeltaEvent | command_index delta output_index sequence_number type obfuscation
ResponseShellCallCommandDoneEvent | command command_index output_index sequence_number type
ResponseShellCallOutputContentDeltaEvent | command_index delta item_id output_index sequence_number type
ResponseShellCallOutputContentDoneEvent | command_index item_id output output_index sequence_number type
ResponseInProgressEvent | response:Response sequence_number type
ResponseFailedEvent | response:Response sequence_number type
ResponseIncompleteEvent | response:Response sequence_number type
ResponseOutputItemAddedEvent | item:{message=ResponseOutputMessage,function_call=ResponseFunctionToolCall,function_call_output=ResponseFunctionToolCallOutputItem,reasoning=ResponseReasoningItem,custom_tool_call=ResponseCustomToolCall} output_index sequence_number type
ResponseOutputItemDoneEvent | item:{message=ResponseOutputMessage,function_call=ResponseFunctionToolCall,function_call_output=ResponseFunctionToolCallOutputItem,reasoning=ResponseReasoningItem,custom_tool_call=ResponseCustomToolCall} output_index sequence_number type
ResponseReasoningSummaryPartAddedEvent | item_id output_index part:Part sequence_number summary_index type
Part | text type
ResponseReasoningSummaryPartDoneEvent | item_id output_index part:summary_part_done.Part sequence_number summary_index type status
summary_part_done.Part | text type
ResponseReasoningSummaryTextDeltaEvent | delta item_id output_index sequence_number summary_index type
ResponseReasoningSummaryTextDoneEvent | item_id output_index sequence_number summary_index text type
ResponseReasoningTextDeltaEvent | content_index delta item_id output_index sequence_number type
ResponseReasoningTextDoneEvent | content_index item_id output_index sequence_number text type
ResponseRefusalDeltaEvent | content_index delta item_id output_index sequence_number type
ResponseRefusalDoneEvent | content_index item_id output_index refusal sequence_number type
ResponseTextDeltaEvent | content_index delta item_id logprobs:[text_delta.Logprob] output_index sequence_number type
text_delta.Logprob | token logprob:float top_logprobs:[text_delta.LogprobTopLogprob]
text_delta.LogprobTopLogprob | token logprob:float
ResponseTextDoneEvent | content_index item_id logprobs:[text_done.Logprob] output_index sequence_number text type
text_done.Logprob | token logprob:float top_logprobs:[text_done.LogprobTopLogprob]
text_done.LogprobTopLogprob | token logprob:float
ResponseWebSearchCallCompletedEvent | item_id output_index sequence_number type
ResponseWebSearchCallInProgressEvent | item_id output_index sequence_number type
ResponseWebSearchCallSearchingEvent | item_id output_index sequence_number type
ResponseImageGenCallCompletedEvent | item_id output_index sequence_number type
ResponseImageGenCallGeneratingEvent | item_id output_index sequence_number type
ResponseImageGenCallInProgressEvent | item_id output_index sequence_number type
ResponseImageGenCallPartialImageEvent | item_id output_index partial_image_b64 partial_image_index sequence_number type background output_format quality size
ResponseMcpCallArgumentsDeltaEvent | delta item_id output_index sequence_number type
ResponseMcpCallArgumentsDoneEvent | arguments item_id output_index sequence_number type
ResponseMcpCallCompletedEvent | item_id output_index sequence_number type
ResponseMcpCallFailedEvent | item_id output_index sequence_number type
ResponseMcpCallInProgressEvent | item_id output_index sequence_number type
ResponseMcpListToolsCompletedEvent | item_id output_index sequence_number type
ResponseMcpListToolsFailedEvent | item_id output_index sequence_number type
ResponseMcpListToolsInProgressEvent | item_id output_index sequence_number type
ResponseOutputTextAnnotationAddedEvent | annotation:{file_citation=annotation_added.AnnotationFileCitation,url_citation=annotation_added.AnnotationURLCitation,container_file_citation=annotation_added.AnnotationContainerFileCitation,file_path=annotation_added.AnnotationFilePath} annotation_index content_index item_id output_index sequence_number type
annotation_added.AnnotationFileCitation | file_id filename index type
annotation_added.AnnotationURLCitation | end_index start_index title type url
annotation_added.AnnotationContainerFileCitation | container_id end_index file_id filename start_index type
annotation_added.AnnotationFilePath | file_id index type
ResponseQueuedEvent | response:Response sequence_number type
ResponseCustomToolCallInputDeltaEvent | delta item_id output_index sequence_number type
ResponseCustomToolCallInputDoneEvent | input item_id output_index sequence_number type
ChunkEvent | type chunk:ChatCompletionChunk snapshot:ParsedChatCompletion
ContentDeltaEvent | type delta snapshot parsed
ContentDoneEvent | type content parsed
RefusalDeltaEvent | type delta snapshot
RefusalDoneEvent | type refusal
FunctionToolCallArgumentsDeltaEvent | type name index arguments parsed_arguments arguments_delta
FunctionToolCallArgumentsDoneEvent | type name index arguments parsed_arguments
LogprobsContentDeltaEvent | type content:[ChatCompletionTokenLogprob] snapshot:[ChatCompletionTokenLogprob]
LogprobsContentDoneEvent | type content:[ChatCompletionTokenLogprob]
LogprobsRefusalDeltaEvent | type refusal:[ChatCompletionTokenLogprob] snapshot:[ChatCompletionTokenLogprob]
LogprobsRefusalDoneEvent | type refusal:[ChatCompletionTokenLogprob]
helper.ResponseTextDeltaEvent | content_index delta item_id logprobs:[text_delta.Logprob] output_index sequence_number type snapshot
helper.ResponseTextDoneEvent | content_index item_id logprobs:[text_done.Logprob] output_index sequence_number text type parsed
helper.ResponseFunctionCallArgumentsDeltaEvent | delta item_id output_index sequence_number type snapshot
helper.ResponseCompletedEvent | response:ParsedResponse sequence_number type
"""

# The Responses API stream event types: ``type`` string, then the schema key of its class.
RESPONSE_EVENTS = dict(line.split() for line in """\
response.audio.delta ResponseAudioDeltaEvent
response.audio.done ResponseAudioDoneEvent
response.audio.transcript.delta ResponseAudioTranscriptDeltaEvent
response.audio.transcript.done ResponseAudioTranscriptDoneEvent
response.code_interpreter_call_code.delta ResponseCodeInterpreterCallCodeDeltaEvent
response.code_interpreter_call_code.done ResponseCodeInterpreterCallCodeDoneEvent
response.code_interpreter_call.completed ResponseCodeInterpreterCallCompletedEvent
response.code_interpreter_call.in_progress ResponseCodeInterpreterCallInProgressEvent
response.code_interpreter_call.interpreting ResponseCodeInterpreterCallInterpretingEvent
response.compaction.compacting ResponseCompactionCompactingEvent
response.completed ResponseCompletedEvent
response.content_part.added ResponseContentPartAddedEvent
response.content_part.done ResponseContentPartDoneEvent
response.created ResponseCreatedEvent
error ResponseErrorEvent
response.file_search_call.completed ResponseFileSearchCallCompletedEvent
response.file_search_call.in_progress ResponseFileSearchCallInProgressEvent
response.file_search_call.searching ResponseFileSearchCallSearchingEvent
response.function_call_arguments.delta ResponseFunctionCallArgumentsDeltaEvent
response.function_call_arguments.done ResponseFunctionCallArgumentsDoneEvent
response.shell_call_command.added ResponseShellCallCommandAddedEvent
response.shell_call_command.delta ResponseShellCallCommandDeltaEvent
response.shell_call_command.done ResponseShellCallCommandDoneEvent
response.shell_call_output_content.delta ResponseShellCallOutputContentDeltaEvent
response.shell_call_output_content.done ResponseShellCallOutputContentDoneEvent
response.in_progress ResponseInProgressEvent
response.failed ResponseFailedEvent
response.incomplete ResponseIncompleteEvent
response.output_item.added ResponseOutputItemAddedEvent
response.output_item.done ResponseOutputItemDoneEvent
response.reasoning_summary_part.added ResponseReasoningSummaryPartAddedEvent
response.reasoning_summary_part.done ResponseReasoningSummaryPartDoneEvent
response.reasoning_summary_text.delta ResponseReasoningSummaryTextDeltaEvent
response.reasoning_summary_text.done ResponseReasoningSummaryTextDoneEvent
response.reasoning_text.delta ResponseReasoningTextDeltaEvent
response.reasoning_text.done ResponseReasoningTextDoneEvent
response.refusal.delta ResponseRefusalDeltaEvent
response.refusal.done ResponseRefusalDoneEvent
response.output_text.delta ResponseTextDeltaEvent
response.output_text.done ResponseTextDoneEvent
response.web_search_call.completed ResponseWebSearchCallCompletedEvent
response.web_search_call.in_progress ResponseWebSearchCallInProgressEvent
response.web_search_call.searching ResponseWebSearchCallSearchingEvent
response.image_generation_call.completed ResponseImageGenCallCompletedEvent
response.image_generation_call.generating ResponseImageGenCallGeneratingEvent
response.image_generation_call.in_progress ResponseImageGenCallInProgressEvent
response.image_generation_call.partial_image ResponseImageGenCallPartialImageEvent
response.mcp_call_arguments.delta ResponseMcpCallArgumentsDeltaEvent
response.mcp_call_arguments.done ResponseMcpCallArgumentsDoneEvent
response.mcp_call.completed ResponseMcpCallCompletedEvent
response.mcp_call.failed ResponseMcpCallFailedEvent
response.mcp_call.in_progress ResponseMcpCallInProgressEvent
response.mcp_list_tools.completed ResponseMcpListToolsCompletedEvent
response.mcp_list_tools.failed ResponseMcpListToolsFailedEvent
response.mcp_list_tools.in_progress ResponseMcpListToolsInProgressEvent
response.output_text.annotation.added ResponseOutputTextAnnotationAddedEvent
response.queued ResponseQueuedEvent
response.custom_tool_call_input.delta ResponseCustomToolCallInputDeltaEvent
response.custom_tool_call_input.done ResponseCustomToolCallInputDoneEvent
""".splitlines())
